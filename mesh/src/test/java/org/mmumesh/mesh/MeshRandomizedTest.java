package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mmumesh.common.Access;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Fingerprint;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.KsmSample;
import org.mmumesh.workload.AccessBatch;
import org.mmumesh.workload.AccessSource;
import org.mmumesh.workload.GuestImage;
import org.mmumesh.workload.Locality;
import org.mmumesh.workload.MmuKind;
import org.mmumesh.workload.ReadMostlyPhase;
import org.mmumesh.workload.WorkloadSpec;
import org.mmumesh.workload.Workloads;

/**
 * Randomized runs of the actor mesh with the invariant checker (architecture section 5; issue 4):
 * seeded workloads of 2 to 3 VMs with 1 or 2 vCPUs each, identical boot images (so KSM merges
 * across VMs), mixed loads, stores and instruction fetches, KSM on, in lockstep (KSM between
 * rounds) and unpaced (ksmd on its wall-clock timer, merging while vCPUs fault), unpaced also under
 * quirk Q8 (LEGACY, FIXED: every notifier requests a full flush of every vCPU, served mid-batch at
 * the vCPU's next guest access), all with the default livelock bound: no access may fail.
 *
 * <p>Checked at the end of every run (and after every lockstep round for one of them, while every
 * vCPU is idle): {@link MeshCluster#invariantViolations()} (the page frames' invariants, each host
 * MMU's, the KSM counters against a recount, no writable shadow entry on a frame another gfn maps);
 * every access counted once ({@code completed + failed} equals the workload's accesses, none
 * failed); and a store-replay oracle: every guest page's final content equals the replay of that
 * VM's own stores, in program order per vCPU, over its boot image (a guest reads back its own
 * writes and never another guest's, whatever KSM merged and COW broke). So that the replay is exact
 * with two vCPUs per VM, vCPU {@code v} stores only to pages {@code gfn % vcpus == v} (its other
 * stores become loads of the same address): stores to one page then have one program order.
 */
class MeshRandomizedTest {
  private static final int PAGES = 64;
  private static final long ACCESSES = 1200;

  /**
   * KSM warm-up passes of the unpaced runs: enough for ksmd to merge the identical boot images
   * before the vCPUs start (its first pass only records checksums), so "KSM merged" holds on any
   * machine, not only when the wall-clock timer got to run before the workload ended.
   */
  private static final int FREE_WARMUP_PASSES = 3;

  @ParameterizedTest(name = "seed={0} vms={1} vcpus={2} mmu={3} {4} {5} everyRound={6}")
  @CsvSource({
    "101, 2, 2, 64, FIXED, LOCKSTEP, true",
    "202, 3, 1, 32, LEGACY, LOCKSTEP, false",
    "303, 2, 2, 32, STRICT, FREE, false",
    "404, 3, 2, 64, STRICT, FREE, false",
    "505, 3, 2, 64, STRICT, LOCKSTEP, true",
    "606, 2, 2, 32, LEGACY, FREE, false",
    "707, 3, 2, 64, FIXED, FREE, false"
  })
  void randomRun_keepsEveryInvariant_andEveryGuestsOwnContent(
      long seed,
      int vms,
      int vcpus,
      int mmuBits,
      Policy policy,
      MeshEngine.Pacing pacing,
      boolean everyRound) {
    WorkloadSpec spec =
        spec(seed, vms, vcpus, mmuBits == 32 ? MmuKind.BOOK3S_32 : MmuKind.BOOK3S_64, PAGES, 0.7);
    // unpaced: ksmd's timer runs on the wall clock, so how much it merges during the run depends
    // on the machine's speed; three warm-up passes (two merge every identical page) make the
    // merges happen before the run, whatever ksmd does while the vCPUs fault
    int warmup = pacing == MeshEngine.Pacing.FREE ? FREE_WARMUP_PASSES : 1;
    EngineConfig cfg = EngineConfig.defaults(MmuOptions.defaults(policy)).withKsm(100, 1, warmup);
    AtomicInteger checkedRounds = new AtomicInteger();
    MeshResult r;
    try (MeshCluster c = MeshCluster.embedded(spec, cfg)) {
      r =
          c.run(
              pacing,
              round -> {
                if (everyRound) {
                  assertThat(c.invariantViolations()).as("after round %d", round).isEmpty();
                  checkedRounds.incrementAndGet();
                }
              });
      assertThat(c.invariantViolations()).as("at the end").isEmpty();
    }
    if (everyRound) {
      assertThat(checkedRounds.get()).isGreaterThanOrEqualTo((int) (ACCESSES / cfg.quantum()));
    }

    long expected = (long) vms * vcpus * ACCESSES;
    assertThat(r.failures()).isEmpty();
    assertThat(r.completed() + r.failed()).as("each access counted once").isEqualTo(expected);
    assertThat(r.failed()).isZero();
    assertThat(r.counters().get(Counter.ACCESSES)).isEqualTo(expected);
    assertThat(r.counters().get(Counter.STORES_LOST)).isZero();
    assertThat(r.ksmViolations()).isEmpty();
    long sharing =
        r.runResult().samples().stream().mapToLong(KsmSample::pagesSharing).max().orElse(0);
    if (pacing == MeshEngine.Pacing.FREE) {
      // unpaced runs sample KSM at the start (after the warm-up passes) and at the end
      assertThat(r.runResult().samples().get(0).pagesSharing())
          .as("KSM merged before the run")
          .isPositive();
    }
    assertThat(sharing).as("KSM merged").isPositive();

    assertOwnContents(spec, r);
  }

  /**
   * Issue 10 item 11: ksmd at its fastest (every page in each batch, a batch every millisecond of
   * wall clock) while three vCPUs per VM store to pages KSM merges (70% of data accesses are
   * stores, on 16 pages of identical guests), unpaced, under each policy (LEGACY and FIXED with
   * quirk Q8's full flushes). With {@code warmup} 3 every page is merged before the run; with 1
   * (checksums only) ksmd merges them while the vCPUs fault, a storm of notifiers. The page
   * reference a fault holds until its retried access has executed ({@code FaultPageRefs}) keeps
   * ksmd from merging a COW copy back before its store, and a fault forced by another's Q8 flush is
   * not counted as a livelock ({@code LivelockBound}): no access fails, however slow the machine.
   * The store-replay oracle checks every guest's content.
   */
  @ParameterizedTest(name = "seed={0} {1} mmu={2} warmup={3} vms={4} pages={5}")
  @CsvSource({
    "808, LEGACY, 32, 3, 2, 16",
    "909, FIXED, 64, 3, 2, 16",
    "1010, STRICT, 64, 3, 2, 16",
    "1111, LEGACY, 64, 1, 3, 128",
    "1212, FIXED, 64, 1, 3, 128",
    "1313, FIXED, 32, 1, 3, 128",
    "1414, STRICT, 32, 1, 3, 128"
  })
  void freePacing_ksmdAtItsFastest_storesToMergedPages_noAccessFails(
      long seed, Policy policy, int mmuBits, int warmup, int vms, long pages) {
    int vcpus = 3;
    WorkloadSpec spec =
        spec(seed, vms, vcpus, mmuBits == 32 ? MmuKind.BOOK3S_32 : MmuKind.BOOK3S_64, pages, 0.3);
    EngineConfig cfg =
        EngineConfig.defaults(MmuOptions.defaults(policy)).withKsm(1 << 16, 1, warmup);
    MeshResult r;
    try (MeshCluster c = MeshCluster.embedded(spec, cfg)) {
      r = c.run(MeshEngine.Pacing.FREE);
      assertThat(c.invariantViolations()).as("at the end").isEmpty();
    }
    long expected = (long) vms * vcpus * ACCESSES;
    assertThat(r.failures()).isEmpty();
    assertThat(r.failed()).isZero();
    assertThat(r.completed()).isEqualTo(expected);
    assertThat(r.counters().get(Counter.STORES_LOST)).isZero();
    assertThat(r.ksmViolations()).isEmpty();
    if (warmup >= 2) {
      assertThat(r.runResult().samples().get(0).pagesSharing())
          .as("KSM merged before the run")
          .isPositive();
      assertThat(r.frameStats().get("COW_BREAKS")).as("stores broke merged pages").isPositive();
    }
    assertOwnContents(spec, r);
  }

  /** Every guest page holds the replay of its own VM's stores over the boot image. */
  private static void assertOwnContents(WorkloadSpec spec, MeshResult r) {
    for (int vm = 0; vm < spec.vms(); vm++) {
      Map<Long, Long> stored = replayStores(spec, vm);
      assertThat(stored).as("vm %d stored", vm).isNotEmpty();
      long[] frames = r.frames().get(vm);
      for (long gfn = 0; gfn < spec.pagesPerVm(); gfn++) {
        long want = stored.getOrDefault(gfn, spec.initialFingerprint(gfn));
        assertThat(frames[(int) gfn]).as("vm %d gfn %d", vm, gfn).isEqualTo(want);
      }
    }
  }

  /** Identical guests whose vCPU {@code v} stores only to pages {@code gfn % vcpus == v}. */
  private static WorkloadSpec spec(
      long seed, int vms, int vcpus, MmuKind mmu, long pages, double readFraction) {
    WorkloadSpec base =
        Workloads.identicalGuests(
            "random-" + seed,
            vms,
            vcpus,
            pages,
            mmu,
            GuestImage.synthetic(pages, 0.4, seed),
            new ReadMostlyPhase(readFraction, pages, Locality.ZIPF, 0.8, ACCESSES, 0.02),
            seed);
    return new WorkloadSpec(
        base.name() + "-own-stores",
        vms,
        vcpus,
        pages,
        mmu,
        base.image(),
        seed,
        (vm, v) -> ownStores(base.sourceFor(vm, v), v, vcpus, base.linearMapBase()));
  }

  private static AccessSource ownStores(AccessSource inner, int vcpu, int vcpus, long base) {
    return new AccessSource() {
      private final AccessBatch tmp = new AccessBatch(256);

      @Override
      public int fill(AccessBatch batch) {
        batch.clear();
        AccessBatch from =
            batch.capacity() == tmp.capacity() ? tmp : new AccessBatch(batch.capacity());
        int n = inner.fill(from);
        for (int i = 0; i < n; i++) {
          Access kind = from.kind(i);
          if (kind == Access.STORE && ((from.ea(i) - base) >>> 12) % vcpus != vcpu) {
            kind = Access.LOAD;
          }
          batch.add(kind, from.ea(i), from.sizeBytes(i), from.value(i));
        }
        return n;
      }

      @Override
      public long expectedAccesses() {
        return inner.expectedAccesses();
      }
    };
  }

  /** VM {@code vm}'s stores replayed over its boot image, each vCPU in program order. */
  private static Map<Long, Long> replayStores(WorkloadSpec spec, int vm) {
    Map<Long, Long> content = new HashMap<>();
    for (int v = 0; v < spec.vcpusPerVm(); v++) {
      AccessSource src = spec.sourceFor(vm, v);
      AccessBatch b = new AccessBatch(512);
      while (src.fill(b) > 0) {
        for (int i = 0; i < b.size(); i++) {
          if (b.kind(i) == Access.STORE) {
            long gfn = (b.ea(i) - spec.linearMapBase()) >>> 12;
            long before = content.getOrDefault(gfn, spec.initialFingerprint(gfn));
            content.put(gfn, Fingerprint.mix(before, (int) (b.ea(i) & 0xFFF), b.value(i)));
          }
        }
      }
    }
    return content;
  }
}
