package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mmumesh.common.Fingerprint;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.GuestLayout;
import org.mmumesh.engine.RunResult;
import org.mmumesh.engine.SequentialEngine;
import org.mmumesh.engine.Stat;
import org.mmumesh.guestmmu.GuestHtab;
import org.mmumesh.pageframe.MemSlot;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.workload.WorkloadParser;
import org.mmumesh.workload.WorkloadSpec;

/**
 * The mesh (on its embedded single-node cluster) against the sequential engine (architecture
 * section 3: the sequential engine is the reference). For seeded workloads whose VMs share nothing
 * (one vCPU per VM, so each VM's accesses run in one program order in both engines), both engines
 * must complete every access with no failure and end with the same content in every guest frame of
 * every VM and the same guest HTAB words. KSM is off in both (the mesh has no KSM yet; the
 * sequential engine gets no warm-up pass and the longest KSM sleep; KSM would not change any
 * frame's content anyway).
 *
 * <p>Exit and shadow-cache counts are <em>not</em> compared: the HostMmu actor applies Q8 full
 * flushes at notifier time while the sequential engine defers them to guest entry, so the number of
 * host faults (and the counters derived from them) may differ; the guest-visible state does not.
 */
class MeshDifferentialTest {

  private static EngineConfig config(Policy policy) {
    return EngineConfig.defaults(MmuOptions.defaults(policy)).withKsm(100, 60_000, 0);
  }

  @ParameterizedTest(name = "mmu={0} policy={1} seed={2}")
  @CsvSource({
    "64, FIXED, 1",
    "64, STRICT, 2",
    "32, FIXED, 3",
    "32, STRICT, 4",
    "64, FIXED, 5",
    "32, STRICT, 6"
  })
  void mesh_endsWithTheSequentialEnginesFramesAndGuestHtab_whenVmsShareNothing(
      int mmu, Policy policy, long seed) {
    String text =
        "uniform:vms=2,vcpus=1,pages=64,read=0.7,accesses=3000,mmu=" + mmu + ",seed=" + seed;
    WorkloadSpec spec = WorkloadParser.parse(text);
    EngineConfig cfg = config(policy);

    SequentialEngine seq = new SequentialEngine(spec, cfg);
    long expected = seq.expectedAccesses();
    RunResult ref = seq.run(null);
    assertThat(ref.failures()).as("sequential failures").isEmpty();
    assertThat(ref.totals().get(Stat.ACCESSES)).isEqualTo(expected);

    MeshResult mesh = MeshEngine.run(WorkloadParser.parse(text), cfg);
    assertThat(mesh.failures()).as("mesh failures").isEmpty();
    assertThat(mesh.completed() + mesh.failed()).as("each access counted once").isEqualTo(expected);
    assertThat(mesh.failed()).isZero();
    assertThat(mesh.completed()).isEqualTo(expected);
    assertThat(mesh.counters())
        .containsEntry("ACCESSES", expected)
        .containsEntry("STORES", ref.totals().get(Stat.STORES))
        .containsEntry("STORES_LOST", 0L)
        .containsEntry("FAILED_ACCESSES", 0L);

    GuestLayout layout = GuestLayout.of(spec.mmu(), spec.pagesPerVm());
    for (int vm = 0; vm < spec.vms(); vm++) {
      long[] want = framesOf(seq.frames(), vm, layout.memoryPages());
      assertThat(mesh.frames().get(vm)).as("vm %d frames", vm).containsExactly(want);
      assertThat(java.util.Arrays.stream(want).filter(f -> f != Fingerprint.ZERO).count())
          .as("vm %d frames written", vm)
          .isPositive();
      List<long[]> htab = nonZeroWords(seq.guestHtab(vm));
      assertThat(htab.get(0)).as("vm %d guest HTAB addresses", vm).isNotEmpty();
      assertThat(mesh.htabAddrs().get(vm))
          .as("vm %d guest HTAB addresses", vm)
          .containsExactly(htab.get(0));
      assertThat(mesh.htabWords().get(vm))
          .as("vm %d guest HTAB words", vm)
          .containsExactly(htab.get(1));
    }
  }

  private static long[] framesOf(PageFrames frames, int vm, long pages) {
    long[] fps = new long[(int) pages];
    for (int g = 0; g < fps.length; g++) {
      MemSlot slot = frames.slotOf(vm, g);
      int pfn = slot == null ? -1 : frames.ptePfn(vm, slot.hvaOf(g));
      fps[g] = pfn < 0 ? Fingerprint.ZERO : frames.frameFingerprint(pfn);
    }
    return fps;
  }

  private static List<long[]> nonZeroWords(GuestHtab h) {
    List<Long> a = new ArrayList<>();
    List<Long> w = new ArrayList<>();
    for (long addr = h.origin(); addr < h.origin() + h.sizeBytes(); addr += h.wordBytes()) {
      long v = h.word(addr);
      if (v != 0) {
        a.add(addr);
        w.add(v);
      }
    }
    return List.of(
        a.stream().mapToLong(Long::longValue).toArray(),
        w.stream().mapToLong(Long::longValue).toArray());
  }
}
