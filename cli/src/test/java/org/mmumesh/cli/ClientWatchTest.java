package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.MeshEventBus;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.gateway.GatewayMain;
import org.mmumesh.mesh.EventFeed;
import org.mmumesh.mesh.Simulation;

/** {@code mmumesh client watch} against a real gateway on a loopback port. */
class ClientWatchTest {
  private static GatewayMain.Running server;
  private static String target;

  @BeforeAll
  static void start() {
    server = GatewayMain.start(GatewayMain.Settings.defaults());
    target = "127.0.0.1:" + server.port();
    Simulation sim = server.simulation();
    sim.createHost(0, false, 1 << 14).toCompletableFuture().join();
    sim.createVm(
            new Simulation.VmConfig(
                5, 0, true, 2048, 1, MmuOptions.defaults(Policy.FIXED), 64, false))
        .toCompletableFuture()
        .join();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void watchWithALimit_printsThatManyEventLines_ofTheRequestedKindAndVm_andExits()
      throws Exception {
    CompletableFuture<CliRun> watch =
        CompletableFuture.supplyAsync(
            () ->
                CliRun.of(
                    "client",
                    "--target",
                    target,
                    "watch",
                    "--kinds",
                    "fault",
                    "--vm",
                    "5",
                    "--limit",
                    "3"));
    // the watch attaches asynchronously: wait until the server's event bus holds its watcher
    // (filter vm 5), then fault on four pages once: every fault after the attachment is delivered
    awaitWatcherOfVm(5, watch);
    List<AccessOp> ops = new ArrayList<>();
    for (int p = 0; p < 4; p++) {
      ops.add(new AccessOp(Access.LOAD, 0x1000_0000L + p * 4096L, 0));
    }
    Simulation.BatchResult faults =
        server.simulation().runBatch(5, 0, ops).toCompletableFuture().join();
    assertThat(faults.completed()).as(faults.failures().toString()).isEqualTo(4);
    CliRun r = watch.get(60, TimeUnit.SECONDS);
    assertThat(r.exit()).as(r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines)
        .allSatisfy(
            l ->
                assertThat(l)
                    .matches("#\\d+ fault  host 0  vm 5  vcpu 0  ea 0x1[0-9a-f]{7}  NOHPTE load"));
  }

  /**
   * Waits until the server node's event bus has a watcher filtered on {@code vm} (the CLI's watch
   * attached), polling the condition; the generous deadline only bounds the wait, and a watch that
   * ended first (it failed) ends the wait with its output.
   */
  private static void awaitWatcherOfVm(int vm, CompletableFuture<CliRun> watch) {
    String self = server.simulation().members().toCompletableFuture().join().selfAddress();
    MeshEventBus bus = EventFeed.forNode(self).orElseThrow().bus();
    org.awaitility.Awaitility.await("the watch attached")
        .atMost(60, TimeUnit.SECONDS)
        .until(
            () -> {
              if (watch.isDone()) {
                CliRun r = watch.join();
                throw new AssertionError(
                    "the watch ended before attaching: " + r.exit() + " " + r.err());
              }
              return bus.watchers().stream().anyMatch(w -> w.filter().vmId() == vm);
            });
  }

  @Test
  void errors_areStatusesOrFieldMessages() {
    CliRun unknownVm = CliRun.of("client", "--target", target, "watch", "--vm", "999");
    assertThat(unknownVm.exit()).isEqualTo(2);
    assertThat(unknownVm.err()).contains("NOT_FOUND").doesNotContain("Exception");
    CliRun badKind = CliRun.of("client", "--target", target, "watch", "--kinds", "fault,boom");
    assertThat(badKind.exit()).isEqualTo(2);
    assertThat(badKind.err()).contains("--kinds: 'boom' is not an event kind");
  }
}
