package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.mesh.EventFeed;
import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.EventServiceGrpc;
import org.mmumesh.proto.v1.HostMmuKind;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.RunWorkloadResponse;
import org.mmumesh.proto.v1.WatchEventsRequest;
import org.mmumesh.proto.v1.WatchEventsResponse;

/**
 * The cap on event watchers, over Netty: the node's default cap of watchers that never read are
 * served, the next one is refused RESOURCE_EXHAUSTED naming the cap, a fault workload completes
 * while they read nothing (the feed never waits for a watcher), and a cancelled watcher's slot is
 * free again.
 */
class EventWatcherCapTest {
  private static Mesh mesh;
  private static EventFeed feed;

  @BeforeAll
  static void start() throws Exception {
    mesh = new Mesh(true);
    feed =
        EventFeed.forNode(mesh.sim.members().toCompletableFuture().get().selfAddress())
            .orElseThrow();
  }

  @AfterAll
  static void stop() {
    mesh.close();
  }

  /** A watch whose client never asks for a message; its end status, if it ends. */
  record Unread(ClientCallStreamObserver<WatchEventsRequest> call, CompletableFuture<Status> end) {}

  static Unread watch() {
    CompletableFuture<Status> end = new CompletableFuture<>();
    CompletableFuture<ClientCallStreamObserver<WatchEventsRequest>> call =
        new CompletableFuture<>();
    EventServiceGrpc.newStub(mesh.channel)
        .watchEvents(
            WatchEventsRequest.getDefaultInstance(),
            new ClientResponseObserver<WatchEventsRequest, WatchEventsResponse>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<WatchEventsRequest> c) {
                c.disableAutoRequestWithInitial(0);
                call.complete(c);
              }

              @Override
              public void onNext(WatchEventsResponse value) {}

              @Override
              public void onError(Throwable t) {
                end.complete(Status.fromThrowable(t));
              }

              @Override
              public void onCompleted() {
                end.complete(Status.OK);
              }
            });
    return new Unread(call.join(), end);
  }

  /** Waits, up to a generous deadline, until the node serves {@code n} watchers. */
  static void awaitWatchers(int n) {
    org.awaitility.Awaitility.await(n + " watchers served")
        .atMost(60, TimeUnit.SECONDS)
        .until(() -> feed.watchers() == n);
  }

  @Test
  void theCapRefusesTheNextWatcher_unreadWatchersDoNotBlockTheWorkload_andSlotsComeBack()
      throws Exception {
    int cap = EventFeed.DEFAULT_MAX_WATCHERS;
    assertThat(feed.maxWatchers()).isEqualTo(cap);
    List<Unread> open = new ArrayList<>();
    for (int i = 0; i < cap; i++) {
      open.add(watch());
    }
    awaitWatchers(cap);

    Status refused = watch().end().get(60, TimeUnit.SECONDS);
    assertThat(refused.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(refused.getDescription())
        .contains("cap of " + cap)
        .contains(EventFeed.MAX_WATCHERS_PATH);

    // a fault workload: 4096 first touches (a fault and a map each, every one an event for every
    // watcher) while no watcher reads; it must complete
    mesh.hosts()
        .createHost(
            CreateHostRequest.newBuilder()
                .setHostId(1)
                .setHostMmu(HostMmuKind.HOST_MMU_KIND_64)
                .setMaxFrames(8192)
                .build());
    mesh.vms().createVm(MalformedRequests.vm().setMemorySizeBytes(16 << 20).build());
    RunWorkloadRequest.Builder batch =
        RunWorkloadRequest.newBuilder().setVcpu(MalformedRequests.vcpu(1, 0));
    for (int page = 0; page < 4096; page++) {
      batch.addAccesses(MalformedRequests.load(0x1000_0000L + ((long) page << 12)));
    }
    List<Object> answers = mesh.runWorkload(List.of(batch.build()));
    assertThat(answers).hasSize(2).last().isEqualTo("completed");
    RunWorkloadResponse r = (RunWorkloadResponse) answers.get(0);
    assertThat(r.getCompleted() + r.getFailed()).isEqualTo(4096);
    assertThat(open).allSatisfy(u -> assertThat(u.end()).as("still open").isNotDone());

    // a cancelled watcher's slot is free again
    open.get(0).call().cancel("done", null);
    awaitWatchers(cap - 1);
    Unread again = watch();
    awaitWatchers(cap);
    assertThat(again.end()).isNotDone();
    again.call().cancel("done", null);
    for (Unread u : open) {
      u.call().cancel("done", null);
    }
    awaitWatchers(0);
  }
}
