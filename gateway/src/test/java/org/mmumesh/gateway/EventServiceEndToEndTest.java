package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.mesh.Simulation;
import org.mmumesh.proto.v1.EventKind;
import org.mmumesh.proto.v1.EventServiceGrpc;
import org.mmumesh.proto.v1.ListHostsRequest;
import org.mmumesh.proto.v1.WatchEventsRequest;
import org.mmumesh.proto.v1.WatchEventsResponse;

/**
 * WatchEvents through a real (in-process) channel over a real single-node mesh: filters by kind and
 * VM, request validation statuses, and a client that stops reading: the server keeps at most its
 * backlog, the next event reports the dropped ones, and the server stays healthy.
 */
class EventServiceEndToEndTest {
  private static Mesh mesh;

  @BeforeAll
  static void start() {
    mesh = new Mesh();
    join(mesh.sim.createHost(0, false, 1 << 16));
    for (int vm = 1; vm <= 3; vm++) {
      join(
          mesh.sim.createVm(
              new Simulation.VmConfig(
                  vm,
                  0,
                  true,
                  vm == 3 ? 16384 : 1024,
                  1,
                  MmuOptions.defaults(Policy.FIXED),
                  64,
                  false)));
    }
  }

  @AfterAll
  static void stop() {
    mesh.close();
  }

  private static <T> T join(CompletionStage<T> s) {
    return s.toCompletableFuture().join();
  }

  /**
   * Loads of {@code pages} distinct pages from page {@code first} (one NOHPTE fault + map each).
   */
  private static void touch(int vm, int first, int pages) {
    List<AccessOp> ops = new ArrayList<>();
    for (int p = first; p < first + pages; p++) {
      ops.add(new AccessOp(Access.LOAD, 0x1000_0000L + p * 4096L, 0));
    }
    Simulation.BatchResult r = join(mesh.sim.runBatch(vm, 0, ops));
    assertThat(r.completed()).as(r.failures().toString()).isEqualTo(pages);
  }

  /** A watch whose client asks for {@code initial} responses, then for more on request. */
  static final class Watch extends Mesh.Queued<WatchEventsResponse>
      implements ClientResponseObserver<WatchEventsRequest, WatchEventsResponse> {
    final int initial;
    volatile ClientCallStreamObserver<WatchEventsRequest> call;

    Watch(int initial) {
      this.initial = initial;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchEventsRequest> c) {
      call = c;
      c.disableAutoRequestWithInitial(initial);
    }

    WatchEventsResponse event() throws InterruptedException {
      Object o = next();
      assertThat(o).isInstanceOf(WatchEventsResponse.class);
      return (WatchEventsResponse) o;
    }
  }

  private static Watch watch(WatchEventsRequest req, int initial) {
    Watch w = new Watch(initial);
    EventServiceGrpc.newStub(mesh.channel).watchEvents(req, w);
    return w;
  }

  @Test
  void filtersByKindAndVm_eachWatcherGetsOnlyItsEvents() throws Exception {
    Watch maps1 =
        watch(
            WatchEventsRequest.newBuilder().addKinds(EventKind.EVENT_KIND_MAP).setVmId(1).build(),
            Integer.MAX_VALUE);
    Watch all2 = watch(WatchEventsRequest.newBuilder().setVmId(2).build(), Integer.MAX_VALUE);
    // the watchers attach asynchronously: wait for both, then every event reaches them
    mesh.awaitWatchers(f -> f.vmId() == 1 && f.kinds().equals(Set.of(MeshEvent.Kind.MAP)), 1);
    mesh.awaitWatchers(f -> f.vmId() == 2 && f.kinds().isEmpty(), 1);
    int page = 0;
    touch(1, page, 4);
    touch(2, page, 4);
    page += 4;
    WatchEventsResponse m = maps1.event();
    assertThat(m.getKind()).isEqualTo(EventKind.EVENT_KIND_MAP);
    assertThat(m.getVmId()).isEqualTo(1);
    assertThat(m.getHostId()).isZero();
    assertThat(m.hasHostPfn()).isTrue();
    assertThat(m.getDetail()).startsWith("map r");
    assertThat(m.getDroppedBefore()).isZero();
    // vm 2's faults and maps, in the order they arrive, until both kinds came
    List<WatchEventsResponse> seen2 = new ArrayList<>();
    while (seen2.stream().map(WatchEventsResponse::getKind).distinct().count() < 2) {
      seen2.add(all2.event());
    }
    for (Object o : maps1.q) {
      assertThat(((WatchEventsResponse) o).getKind()).isEqualTo(EventKind.EVENT_KIND_MAP);
      assertThat(((WatchEventsResponse) o).getVmId()).isEqualTo(1);
    }
    assertThat(seen2).allSatisfy(e -> assertThat(e.getVmId()).isEqualTo(2));
    assertThat(seen2)
        .extracting(WatchEventsResponse::getKind)
        .containsOnly(EventKind.EVENT_KIND_FAULT, EventKind.EVENT_KIND_MAP);
    WatchEventsResponse fault =
        seen2.stream().filter(e -> e.getKind() == EventKind.EVENT_KIND_FAULT).findFirst().get();
    assertThat(fault.getDetail()).isEqualTo("NOHPTE load");
    assertThat(fault.getVcpuIndex()).isZero();
    assertThat(fault.getEffectiveAddr()).isBetween(0x1000_0000L, 0x1000_0000L + page * 4096L);
    maps1.call.cancel("done", null);
    all2.call.cancel("done", null);
  }

  @Test
  void aClientThatStopsReading_losesTheOldest_countedInDroppedBefore_andTheServerStaysHealthy()
      throws Exception {
    long incidents = StatusMapper.incidents();
    Watch slow = watch(WatchEventsRequest.newBuilder().setVmId(3).build(), 1);
    mesh.awaitWatchers(f -> f.vmId() == 3, 1);
    int page = 0;
    touch(3, page, 4);
    page += 4;
    WatchEventsResponse first = slow.event();
    assertThat(first.getSequence()).isEqualTo(1);
    // 6000 fresh pages while the client reads nothing: 12000 events for a backlog of
    // EventFeed.DEFAULT_BACKLOG (and what the transport holds: under the 10,000 of the test's
    // first version, which this bound still uses)
    touch(3, page, 6000);
    slow.call.request(Integer.MAX_VALUE);
    long dropped = 0;
    long lastSeq = first.getSequence();
    WatchEventsResponse e;
    do {
      e = slow.event();
      assertThat(e.getSequence() - lastSeq - 1).isEqualTo(e.getDroppedBefore());
      dropped += e.getDroppedBefore();
      lastSeq = e.getSequence();
    } while (dropped == 0);
    assertThat(dropped).isGreaterThanOrEqualTo(12_000 - 10_000 - page * 2L);
    // healthy: other calls are served, and no INTERNAL status was produced
    assertThat(
            org.mmumesh.proto.v1.HostServiceGrpc.newBlockingStub(mesh.channel)
                .listHosts(ListHostsRequest.getDefaultInstance())
                .getHostsCount())
        .isEqualTo(1);
    touch(3, 0, 4); // the simulation still runs (TLB / HPTE hits now)
    slow.call.cancel("done", null);
    assertThat(StatusMapper.incidents()).isEqualTo(incidents);
  }

  @Test
  void badRequests_getTheirStatus_namingTheField() throws Exception {
    Status unspecified =
        (Status)
            watch(
                    WatchEventsRequest.newBuilder()
                        .addKinds(EventKind.EVENT_KIND_FAULT)
                        .addKinds(EventKind.EVENT_KIND_UNSPECIFIED)
                        .build(),
                    1)
                .next();
    assertThat(unspecified.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(unspecified.getDescription()).startsWith("kinds[1]: ");
    Status vmRange =
        (Status) watch(WatchEventsRequest.newBuilder().setVmId(1 << 20).build(), 1).next();
    assertThat(vmRange.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(vmRange.getDescription()).startsWith("vm_id: ");
    Status noVm = (Status) watch(WatchEventsRequest.newBuilder().setVmId(99).build(), 1).next();
    assertThat(noVm.getCode()).isEqualTo(Status.Code.NOT_FOUND);
    Status noHost = (Status) watch(WatchEventsRequest.newBuilder().setHostId(7).build(), 1).next();
    assertThat(noHost.getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(noHost.getDescription()).contains("host 7");
  }

  @Test
  void aSimulationWithoutAFeed_isUnavailable() throws Exception {
    StubSimulation stub = new StubSimulation();
    String name = "events-stub-" + java.util.UUID.randomUUID();
    GatewayServer server =
        GatewayServer.inProcess(name, List.of(new EventService(stub.simulation())), List.of())
            .start();
    io.grpc.ManagedChannel ch = io.grpc.inprocess.InProcessChannelBuilder.forName(name).build();
    try {
      Watch w = new Watch(1);
      EventServiceGrpc.newStub(ch).watchEvents(WatchEventsRequest.getDefaultInstance(), w);
      Status s = (Status) w.next();
      assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(stub.otherCalls).containsExactly("members");
    } finally {
      ch.shutdownNow();
      server.close();
    }
  }
}
