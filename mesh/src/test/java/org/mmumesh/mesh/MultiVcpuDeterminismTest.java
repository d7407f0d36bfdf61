package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mmumesh.common.Counter;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.GuestLayout;
import org.mmumesh.engine.RunResult;
import org.mmumesh.engine.SequentialEngine;
import org.mmumesh.hostmmu.ShadowDump;
import org.mmumesh.workload.WorkloadParser;
import org.mmumesh.workload.WorkloadSpec;

/**
 * Issue 11 item 5: with several vCPUs per VM, a lockstep mesh run is a function of its seed alone
 * and equals the sequential engine's. Both follow the {@code LockstepSchedule}: within a round the
 * vCPUs of one VM run one after another in index order (they share the guest MMU, the host MMU and
 * its TLB epoch), VMs concurrently on the mesh. Before the schedule fixed that order the vCPUs of a
 * VM ran their batches at once and interleaved at the shared guest MMU and frames, so two mesh runs
 * of one seed differed from each other and from the engine.
 *
 * <p>Each case runs the mesh twice and the engine once and compares: every VM's {@link Counter}
 * table and the totals (the report's table), the failures, the end state (every VM's non-zero guest
 * HTAB words, the content of every gfn, the shadow caches of every vCPU without host pfns), the KSM
 * and page-frame counters, the simulated duration and the whole KSM time series. The workloads are
 * {@code identical:} guests (KSM merges their boot images, stores break the merges and, under Q8,
 * raise KVM_REQ_TLB_FLUSH on every vCPU of the VM), with an access count that is not a multiple of
 * the quantum (see {@link MeshDifferentialTest} for why).
 */
class MultiVcpuDeterminismTest {

  private static EngineConfig config(Policy policy) {
    return EngineConfig.defaults(MmuOptions.defaults(policy))
        .withKsm(100, 1, 1)
        .withSampleInterval(50_000)
        .withSidToggle(EngineConfig.SidToggleScope.PER_VM);
  }

  @ParameterizedTest(name = "vms={0} vcpus={1} policy={2} seed={3}")
  @CsvSource({
    "2, 2, LEGACY, 21",
    "2, 2, FIXED, 22",
    "2, 2, STRICT, 23",
    "3, 4, LEGACY, 24",
    "3, 4, FIXED, 25",
    "3, 4, STRICT, 26"
  })
  void lockstepMesh_isAFunctionOfTheSeed_andEqualsTheEngine_withSeveralVcpusPerVm(
      int vms, int vcpus, Policy policy, long seed) {
    String text =
        "identical:vms="
            + vms
            + ",vcpus="
            + vcpus
            + ",pages=64,ws=48,image-distinct=0.3,read=0.8,accesses=1201,mmu=64,seed="
            + seed;
    EngineConfig cfg = config(policy);
    assertThat(1201 % cfg.quantum()).as("not a multiple of the quantum").isNotZero();

    WorkloadSpec spec = WorkloadParser.parse(text);
    SequentialEngine seq = new SequentialEngine(spec, cfg);
    RunResult ref = seq.run(null);
    assertThat(ref.host("cow_ksm")).as("stores broke KSM merges").isPositive();

    MeshResult first = MeshEngine.run(WorkloadParser.parse(text), cfg);
    MeshResult second = MeshEngine.run(WorkloadParser.parse(text), cfg);
    for (MeshResult mesh : List.of(first, second)) {
      RunResult got = mesh.runResult();
      assertThat(mesh.completed() + mesh.failed()).isEqualTo((long) vms * vcpus * 1201);
      assertThat(mesh.counters().get(Counter.STORES_LOST)).isZero();
      assertThat(mesh.counters().get(Counter.TIMEOUTS)).isZero();
      assertThat(got.failures()).as("failures").isEqualTo(ref.failures());
      for (int vm = 0; vm < vms; vm++) {
        assertThat(got.perVm().get(vm).toMap())
            .as("vm %d stats", vm)
            .isEqualTo(ref.perVm().get(vm).toMap());
        List<long[]> htab = EngineEndState.nonZeroWords(seq.guestHtab(vm));
        assertThat(mesh.htabAddrs().get(vm))
            .as("vm %d HTAB addrs", vm)
            .containsExactly(htab.get(0));
        assertThat(mesh.htabWords().get(vm))
            .as("vm %d HTAB words", vm)
            .containsExactly(htab.get(1));
        assertThat(mesh.frames().get(vm))
            .as("vm %d frames", vm)
            .containsExactly(
                EngineEndState.framesOf(
                    seq.frames(), vm, GuestLayout.of(spec.mmu(), spec.pagesPerVm()).memoryPages()));
        ShadowDump want = seq.shadowDump(vm);
        assertThat(want.vcpus()).hasSize(vcpus);
        assertThat(mesh.shadows().get(vm).withoutPfns())
            .as("vm %d shadow caches", vm)
            .isEqualTo(want.withoutPfns());
      }
      assertThat(got.totals().toMap()).as("totals").isEqualTo(ref.totals().toMap());
      assertThat(got.host()).as("host counters").isEqualTo(ref.host());
      assertThat(got.simNanos()).as("simulated duration").isEqualTo(ref.simNanos());
      assertThat(got.samples()).as("KSM series").isEqualTo(ref.samples());
    }
    assertThat(ref.samples()).hasSizeGreaterThan(2);
  }
}
