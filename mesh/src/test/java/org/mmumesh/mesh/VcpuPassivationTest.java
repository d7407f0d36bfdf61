package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.vcpu.actor.Vcpu;

/**
 * An idle vCPU passivates and keeps its state: with {@code mmumesh.vcpu.passivate-after-idle} set
 * small, a vCPU that ran a batch stops being a live entity; its counters read the same as before
 * (from the node's parking, without starting it), and a further batch continues them exactly as a
 * run without passivation does, TLB hits included (the TLB entries valid at the parked epoch are
 * kept).
 */
class VcpuPassivationTest {

  private static final String VCPU = "vm-7/vcpu-0";

  private static <T> T join(CompletionStage<T> s) {
    return s.toCompletableFuture().join();
  }

  /** Stores then loads over 8 pages (first), then the same pages again (second: TLB hits). */
  private static List<AccessOp> ops(boolean first) {
    List<AccessOp> ops = new ArrayList<>();
    for (int round = 0; round < 2; round++) {
      Access kind = (round == 0) == first ? Access.STORE : Access.LOAD;
      for (int p = 0; p < 8; p++) {
        ops.add(new AccessOp(kind, 0x1000_0000L + p * 4096L + 8 * round, p + 1));
      }
    }
    return ops;
  }

  private static MeshSimulation vm(MeshCluster c) {
    MeshSimulation sim = c.simulation(0);
    join(sim.createHost(0, false, 4096));
    join(
        sim.createVm(
            new Simulation.VmConfig(
                7, 0, true, 256, 1, MmuOptions.defaults(Policy.FIXED), 64, false)));
    return sim;
  }

  private static Map<String, Long> run(MeshSimulation sim, boolean first) {
    Simulation.BatchResult r = join(sim.runBatch(7, 0, ops(first)));
    assertThat(r.failed()).as(r.failures().toString()).isZero();
    return join(sim.vmStats(7)).counters();
  }

  /** Polls {@code condition} until it holds, failing after {@code deadline}. */
  private static void await(String what, Duration deadline, BooleanSupplier condition) {
    long end = System.nanoTime() + deadline.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - end).as("still not: " + what).isNegative();
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
  }

  @Test
  void idleVcpu_parks_keepsItsCounters_andContinuesAsWithoutPassivation() {
    Map<String, Long> reference;
    try (MeshCluster c =
        MeshCluster.embeddedSimulation(
            ConfigFactory.parseString("mmumesh.vcpu.passivate-after-idle = off"))) {
      MeshSimulation sim = vm(c);
      run(sim, true);
      reference = run(sim, false);
      assertThat(c.entityIds(0, Vcpu.ENTITY_KEY)).contains(VCPU);
    }

    try (MeshCluster c =
        MeshCluster.embeddedSimulation(
            ConfigFactory.parseString("mmumesh.vcpu.passivate-after-idle = 300ms"))) {
      MeshSimulation sim = vm(c);
      Map<String, Long> before = run(sim, true);
      assertThat(before.get("accesses")).isEqualTo(16);

      await(
          VCPU + " passivated",
          Duration.ofSeconds(60),
          () -> !c.entityIds(0, Vcpu.ENTITY_KEY).contains(VCPU));

      assertThat(join(sim.vmStats(7)).counters()).as("parked counters").isEqualTo(before);
      assertThat(c.entityIds(0, Vcpu.ENTITY_KEY))
          .as("read without starting it")
          .doesNotContain(VCPU);

      Map<String, Long> after = run(sim, false);
      assertThat(after.get("tlb_hits"))
          .as("the second batch hit the restored TLB")
          .isGreaterThan(before.get("tlb_hits"));
      assertThat(after).as("as without passivation").isEqualTo(reference);
    }
  }
}
