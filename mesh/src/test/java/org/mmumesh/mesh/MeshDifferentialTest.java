package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Fingerprint;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.GuestLayout;
import org.mmumesh.engine.RunResult;
import org.mmumesh.engine.SequentialEngine;
import org.mmumesh.ksm.KsmScanner;
import org.mmumesh.workload.WorkloadParser;
import org.mmumesh.workload.WorkloadSpec;

/**
 * Issue 4's differential test: for seeded workloads whose VMs share nothing, with KSM stepped in
 * lockstep, the actor mesh (embedded single-node cluster, {@link MeshEngine.Pacing#LOCKSTEP}) and
 * the sequential engine (the reference, architecture section 3) end with identical guest HTAB
 * words, frames, shadow caches and counters, under each policy, for 64- and 32-bit guests, with
 * {@code identical:} guests (KSM merges their boot images across VMs during the warm-up pass and
 * the run, and their stores break the merges again) and {@code uniform:} zeroed guests.
 *
 * <p>Compared, per VM: (a) every non-zero guest HTAB word and its address; (b) the content
 * fingerprint of every gfn; (c) the shadow cache, {@code HostMmu.DumpShadow} against {@code
 * SequentialEngine.shadowDump(vm)}, every entry of every vCPU and the host-MMU core's counters,
 * without host pfns (they differ by the VMs' allocation interleaving); (d) every {@link Counter}.
 * Host-wide: the KSM counters ({@code pages_shared}, {@code pages_sharing}, {@code pages_unshared},
 * {@code pages_volatile}, {@code full_scans}, {@code pages_visited}), the page frames' counters of
 * the run result ({@code cow_ksm}, {@code cow_breaks}, ...), the simulated duration and the whole
 * KSM time series.
 *
 * <p>What the comparison needs (each a property of the model, stated rather than hidden): the
 * engine with {@link EngineConfig.SidToggleScope#PER_VM} (the mesh has one SID-map toggle per
 * HostMmu); one vCPU per VM here (the engine watches missed C bits per VM, the Vcpu per vCPU;
 * several vCPUs per VM, run in the {@code LockstepSchedule}'s order, are {@link
 * MultiVcpuDeterminismTest}'s subject); access counts that are not a multiple of the quantum (at an
 * exact multiple the engine enters the guest once more after the last access, processing a pending
 * Q8 flush, which the mesh's {@code Vcpu} cannot be asked to do: it rejects empty batches). The
 * engine's {@code loadDigest} is not compared (the mesh's loads carry no content).
 */
class MeshDifferentialTest {

  /**
   * A fast ksmd (100 pages per simulated millisecond, one warm-up pass), so that it scans, merges
   * and sees merges broken during the run; samples every 50 us.
   */
  private static EngineConfig config(Policy policy) {
    return EngineConfig.defaults(MmuOptions.defaults(policy))
        .withKsm(100, 1, 1)
        .withSampleInterval(50_000)
        .withSidToggle(EngineConfig.SidToggleScope.PER_VM);
  }

  @ParameterizedTest(name = "{0} mmu={1} policy={2} seed={3}")
  @CsvSource({
    "identical, 64, LEGACY, 1",
    "identical, 64, FIXED, 2",
    "identical, 64, STRICT, 3",
    "identical, 32, LEGACY, 4",
    "identical, 32, FIXED, 5",
    "identical, 32, STRICT, 6",
    "uniform, 64, LEGACY, 7",
    "uniform, 64, FIXED, 8",
    "uniform, 64, STRICT, 9",
    "uniform, 32, LEGACY, 10",
    "uniform, 32, FIXED, 11",
    "uniform, 32, STRICT, 12"
  })
  void mesh_endsInTheSequentialEnginesState_whenVmsShareNothingAndKsmIsLockstepped(
      String kind, int mmu, Policy policy, long seed) {
    String text =
        kind.equals("identical")
            ? "identical:vms=2,vcpus=1,pages=64,ws=48,image-distinct=0.3,read=0.8,accesses=2001,mmu="
                + mmu
                + ",seed="
                + seed
            : "uniform:vms=2,vcpus=1,pages=48,read=0.7,accesses=2001,mmu=" + mmu + ",seed=" + seed;
    EngineConfig cfg = config(policy);
    assertThat(2001 % cfg.quantum()).as("not a multiple of the quantum").isNotZero();

    WorkloadSpec spec = WorkloadParser.parse(text);
    SequentialEngine seq = new SequentialEngine(spec, cfg);
    RunResult ref = seq.run(null);
    assertThat(ref.failures()).as("sequential failures").isEmpty();

    MeshResult mesh = MeshEngine.run(WorkloadParser.parse(text), cfg);
    RunResult got = mesh.runResult();
    assertThat(mesh.failures()).as("mesh failures").isEmpty();
    assertThat(mesh.completed()).isEqualTo(2 * 2001L);
    assertThat(mesh.counters().get(Counter.STORES_LOST)).isZero();
    assertThat(mesh.counters().get(Counter.TIMEOUTS)).isZero();

    GuestLayout layout = GuestLayout.of(spec.mmu(), spec.pagesPerVm());
    for (int vm = 0; vm < spec.vms(); vm++) {
      // (a) guest HTAB words
      List<long[]> htab = EngineEndState.nonZeroWords(seq.guestHtab(vm));
      assertThat(htab.get(0)).as("vm %d guest HTAB", vm).isNotEmpty();
      assertThat(mesh.htabAddrs().get(vm)).as("vm %d HTAB addrs", vm).containsExactly(htab.get(0));
      assertThat(mesh.htabWords().get(vm)).as("vm %d HTAB words", vm).containsExactly(htab.get(1));
      // (b) frames
      long[] want = EngineEndState.framesOf(seq.frames(), vm, layout.memoryPages());
      assertThat(mesh.frames().get(vm)).as("vm %d frames", vm).containsExactly(want);
      assertThat(Arrays.stream(want).filter(f -> f != Fingerprint.ZERO).count()).isPositive();
      // (c) shadow caches (entries and the core's counters), without host pfns
      assertThat(seq.shadowDump(vm).entryCount()).as("vm %d shadow entries", vm).isPositive();
      assertThat(mesh.shadows().get(vm).withoutPfns())
          .as("vm %d shadow cache", vm)
          .isEqualTo(seq.shadowDump(vm).withoutPfns());
      // (d) every Counter of the VM
      assertThat(mesh.perVm().get(vm)).as("vm %d stats", vm).isEqualTo(ref.perVm().get(vm).toMap());
      assertThat(got.perVm().get(vm).toMap()).isEqualTo(ref.perVm().get(vm).toMap());
    }
    assertThat(got.totals().toMap()).isEqualTo(ref.totals().toMap());

    // KSM and page-frame counters, the clock, the KSM series.
    KsmScanner k = seq.ksm();
    assertThat(k.fullScans())
        .as("KSM passes after the warm-up one, in %d simulated ns", ref.simNanos())
        .isGreaterThan(1);
    Map<String, Long> ksm = mesh.ksm();
    assertThat(ksm)
        .containsEntry("pages_shared", k.pagesShared())
        .containsEntry("pages_sharing", k.pagesSharing())
        .containsEntry("pages_unshared", k.pagesUnshared())
        .containsEntry("pages_volatile", k.pagesVolatile())
        .containsEntry("full_scans", k.fullScans())
        .containsEntry("pages_visited", k.pagesVisited());
    assertThat(mesh.ksmViolations()).isEmpty();
    if (kind.equals("identical")) {
      assertThat(ref.host("cow_ksm")).as("stores broke KSM merges").isPositive();
    }
    assertThat(got.host()).isEqualTo(ref.host());
    assertThat(got.simNanos()).isEqualTo(ref.simNanos());
    assertThat(got.samples()).isEqualTo(ref.samples());
    assertThat(got.samples()).hasSizeGreaterThan(2);
  }
}
