package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.proto.v1.AccessRequest;
import org.mmumesh.proto.v1.AccessServiceGrpc;
import org.mmumesh.proto.v1.AddMemslotRequest;
import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.CreateVmRequest;
import org.mmumesh.proto.v1.DeleteHostRequest;
import org.mmumesh.proto.v1.DeleteVmRequest;
import org.mmumesh.proto.v1.EventServiceGrpc;
import org.mmumesh.proto.v1.Fingerprints;
import org.mmumesh.proto.v1.GetHostStatsRequest;
import org.mmumesh.proto.v1.GetKsmCountersRequest;
import org.mmumesh.proto.v1.GetVmRequest;
import org.mmumesh.proto.v1.GetVmStatsRequest;
import org.mmumesh.proto.v1.HostMmuKind;
import org.mmumesh.proto.v1.InsertHpteRequest;
import org.mmumesh.proto.v1.ListHostsRequest;
import org.mmumesh.proto.v1.LoadMemoryRequest;
import org.mmumesh.proto.v1.LocateEntityRequest;
import org.mmumesh.proto.v1.MmuKind;
import org.mmumesh.proto.v1.ReadMemoryRequest;
import org.mmumesh.proto.v1.ReadRcRequest;
import org.mmumesh.proto.v1.RemoveMemslotRequest;
import org.mmumesh.proto.v1.RunKsmBatchRequest;
import org.mmumesh.proto.v1.RunKsmPassesRequest;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.SetKsmControlRequest;
import org.mmumesh.proto.v1.SetVcpuStateRequest;
import org.mmumesh.proto.v1.WatchEventsRequest;

/**
 * The malformed-request table end to end: every row (the static ones and the state-dependent ones)
 * through a real channel to the gateway over a real single-node mesh gets its documented status and
 * the field (or subject) in its description, and changes nothing: hosts, both VMs, their memory,
 * statistics and KSM counters read the same before and after every row. No INTERNAL anywhere.
 */
class MalformedEndToEndTest {
  private static Mesh mesh;
  private static List<String> before;

  @BeforeAll
  static void start() {
    mesh = new Mesh();
    mesh.hosts().createHost(MalformedRequests.host().build());
    mesh.hosts()
        .createHost(
            CreateHostRequest.newBuilder()
                .setHostId(2)
                .setHostMmu(HostMmuKind.HOST_MMU_KIND_32)
                .setMaxFrames(4096)
                .build());
    mesh.vms().createVm(MalformedRequests.vm().build());
    mesh.vms()
        .createVm(
            MalformedRequests.vm()
                .setVmId(2)
                .setHostId(2)
                .setMmuKind(MmuKind.MMU_KIND_BOOK3S_32)
                .build());
    Fingerprints.Builder f = Fingerprints.newBuilder();
    for (int i = 0; i < 16; i++) {
      f.addValues(1000 + i);
    }
    mesh.vms()
        .loadMemory(
            LoadMemoryRequest.newBuilder()
                .setVm(MalformedRequests.vmRef(1))
                .setGuestFrameStart(0)
                .setFingerprints(f)
                .build());
    // The first reads start the vCPU entities, which subscribe to their host MMU (one shootdown
    // each): read until two snapshots agree, then every row must leave that one as it is.
    List<String> prev = snapshot();
    for (int i = 0; i < 100; i++) {
      List<String> now = snapshot();
      if (now.equals(prev)) {
        break;
      }
      prev = now;
    }
    before = prev;
  }

  @AfterAll
  static void stop() {
    mesh.close();
  }

  /** Everything a refused request must leave as it was. */
  static List<String> snapshot() {
    List<String> s = new ArrayList<>();
    s.add(mesh.hosts().listHosts(ListHostsRequest.getDefaultInstance()).toString());
    for (int vm = 1; vm <= 2; vm++) {
      s.add(
          mesh.vms()
              .getVm(GetVmRequest.newBuilder().setVm(MalformedRequests.vmRef(vm)).build())
              .toString());
      s.add(
          mesh.vms()
              .readMemory(
                  ReadMemoryRequest.newBuilder()
                      .setVm(MalformedRequests.vmRef(vm))
                      .setPages(256)
                      .build())
              .toString());
      s.add(
          mesh.vms()
              .getVmStats(GetVmStatsRequest.newBuilder().setVm(MalformedRequests.vmRef(vm)).build())
              .toString());
    }
    for (int h = 1; h <= 2; h++) {
      s.add(
          mesh.hosts()
              .getHostStats(GetHostStatsRequest.newBuilder().setHostId(h).build())
              .toString());
      s.add(
          mesh.ksm()
              .getKsmCounters(GetKsmCountersRequest.newBuilder().setHostId(h).build())
              .toString());
    }
    return s;
  }

  /** Sends {@code m} to the RPC named {@code rpc}; the status it ends with. */
  static Status send(String rpc, Message m) throws InterruptedException {
    return switch (rpc) {
      case "CreateHost" -> Mesh.statusOf(() -> mesh.hosts().createHost((CreateHostRequest) m));
      case "DeleteHost" -> Mesh.statusOf(() -> mesh.hosts().deleteHost((DeleteHostRequest) m));
      case "GetHostStats" ->
          Mesh.statusOf(() -> mesh.hosts().getHostStats((GetHostStatsRequest) m));
      case "CreateVm" -> Mesh.statusOf(() -> mesh.vms().createVm((CreateVmRequest) m));
      case "DeleteVm" -> Mesh.statusOf(() -> mesh.vms().deleteVm((DeleteVmRequest) m));
      case "GetVm" -> Mesh.statusOf(() -> mesh.vms().getVm((GetVmRequest) m));
      case "GetVmStats" -> Mesh.statusOf(() -> mesh.vms().getVmStats((GetVmStatsRequest) m));
      case "SetVcpuState" -> Mesh.statusOf(() -> mesh.vms().setVcpuState((SetVcpuStateRequest) m));
      case "AddMemslot" -> Mesh.statusOf(() -> mesh.vms().addMemslot((AddMemslotRequest) m));
      case "RemoveMemslot" ->
          Mesh.statusOf(() -> mesh.vms().removeMemslot((RemoveMemslotRequest) m));
      case "LoadMemory" -> Mesh.statusOf(() -> mesh.vms().loadMemory((LoadMemoryRequest) m));
      case "ReadMemory" -> Mesh.statusOf(() -> mesh.vms().readMemory((ReadMemoryRequest) m));
      case "InsertHpte" -> Mesh.statusOf(() -> mesh.vms().insertHpte((InsertHpteRequest) m));
      case "ReadRc" -> Mesh.statusOf(() -> mesh.vms().readRc((ReadRcRequest) m));
      case "Access" -> Mesh.statusOf(() -> mesh.access().access((AccessRequest) m));
      case "SetKsmControl" ->
          Mesh.statusOf(() -> mesh.ksm().setKsmControl((SetKsmControlRequest) m));
      case "RunKsmPasses" -> Mesh.statusOf(() -> mesh.ksm().runKsmPasses((RunKsmPassesRequest) m));
      case "RunKsmBatch" -> Mesh.statusOf(() -> mesh.ksm().runKsmBatch((RunKsmBatchRequest) m));
      case "GetKsmCounters" ->
          Mesh.statusOf(() -> mesh.ksm().getKsmCounters((GetKsmCountersRequest) m));
      case "WatchEvents" ->
          Mesh.statusOf(
              () ->
                  EventServiceGrpc.newBlockingStub(mesh.channel)
                      .withDeadlineAfter(10, TimeUnit.SECONDS)
                      .watchEvents((WatchEventsRequest) m)
                      .hasNext());
      case "LocateEntity" ->
          Mesh.statusOf(() -> mesh.clusterStub().locateEntity((LocateEntityRequest) m));
      case "RunWorkload" -> {
        Mesh.Answers a = new Mesh.Answers();
        StreamObserver<RunWorkloadRequest> req =
            AccessServiceGrpc.newStub(mesh.channel).runWorkload(a);
        req.onNext((RunWorkloadRequest) m);
        req.onCompleted();
        Object o = a.next();
        yield o instanceof Status s ? s : Status.OK;
      }
      default -> throw new AssertionError("no dispatch for " + rpc);
    };
  }

  private static void check(MalformedRequests.Case c) throws InterruptedException {
    Status s = send(c.rpc(), c.request());
    assertThat(s.getCode()).as(c.name() + ": " + s).isEqualTo(c.code());
    if (c.code() == Status.Code.INVALID_ARGUMENT) {
      assertThat(s.getDescription()).as(c.name()).startsWith(c.field() + ": ");
    } else {
      assertThat(s.getDescription()).as(c.name()).contains(c.field());
    }
    assertThat(snapshot()).as(c.name() + " changed nothing").isEqualTo(before);
  }

  @Test
  void everyStaticRow_overTheChannel_getsItsStatus_andChangesNothing() throws Exception {
    int rows = 0;
    for (MalformedRequests.Case c : MalformedRequests.cases()) {
      check(c);
      rows++;
    }
    assertThat(rows).isGreaterThanOrEqualTo(50);
  }

  /**
   * Every raw row (undecodable bytes, unknown enum numbers) sent as bytes through a real channel:
   * INVALID_ARGUMENT naming the field and the problem, nothing changed, and nothing logged by grpc
   * at WARNING or above (it used to answer UNKNOWN and log a SEVERE stack trace for each).
   */
  @Test
  void everyRawRow_asBytesOverTheChannel_getsInvalidArgumentNamingTheProblem() throws Exception {
    try (RawCalls.GrpcWarnings warnings = new RawCalls.GrpcWarnings()) {
      for (MalformedRequests.RawCase c : MalformedRequests.rawCases()) {
        checkRaw(mesh, c);
        assertThat(snapshot()).as(c.name() + " changed nothing").isEqualTo(before);
      }
      assertThat(warnings.seen()).as("grpc's warnings").isEmpty();
    }
    assertThat(MalformedRequests.rawCases()).hasSizeGreaterThanOrEqualTo(25);
  }

  /** One raw row through {@code m}'s channel: INVALID_ARGUMENT, "field: ..." naming the problem. */
  static void checkRaw(Mesh m, MalformedRequests.RawCase c) throws Exception {
    Status s = RawCalls.send(m.channel, c.method(), c.bytes());
    assertThat(s.getCode()).as(c.name() + ": " + s).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(s.getDescription()).as(c.name()).startsWith(c.field() + ": ").contains(c.problem());
  }

  @Test
  void everyStateDependentRow_getsItsStatus_andChangesNothing() throws Exception {
    for (MalformedRequests.Case c : MalformedRequests.stateCases()) {
      check(c);
    }
    assertThat(MalformedRequests.stateCases()).hasSizeGreaterThanOrEqualTo(30);
  }
}
