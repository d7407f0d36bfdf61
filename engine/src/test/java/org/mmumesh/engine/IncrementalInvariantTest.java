package org.mmumesh.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Field;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.hostmmu.HostMmuCore;
import org.mmumesh.hostmmu.HpteCacheEntry;
import org.mmumesh.ksm.KsmScanner;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.workload.Locality;
import org.mmumesh.workload.MmuKind;
import org.mmumesh.workload.ReadMostlyPhase;
import org.mmumesh.workload.WorkloadSpec;
import org.mmumesh.workload.Workloads;

/**
 * The engine's incremental {@code --check-invariants} ({@link InvariantChecker#check}): a run with
 * it gives exactly the run without it, and after a run (events done, the last check passed) a
 * corruption of each kind is reported by the next incremental check.
 */
class IncrementalInvariantTest {
  private static final int PAGES = 200;

  /** Two identical guests; {@code read} of the accesses are loads (1.0: KSM pages survive). */
  private static WorkloadSpec spec(double read) {
    return Workloads.identicalGuests(
        "inv",
        2,
        1,
        PAGES,
        MmuKind.BOOK3S_64,
        Scripted.unique(PAGES, 3),
        new ReadMostlyPhase(read, PAGES, Locality.UNIFORM, 0, 20_000, 0),
        5);
  }

  private static SequentialEngine ran(Policy p, boolean check) {
    return ran(p, check, 1.0);
  }

  private static SequentialEngine ran(Policy p, boolean check, double read) {
    SequentialEngine e =
        new SequentialEngine(
            spec(read),
            EngineConfig.defaults(MmuOptions.defaults(p))
                .withKsm(1000, 20, 2)
                .withInvariants(check));
    RunResult r = e.run(null);
    assertThat(r.failures()).isEmpty();
    return e;
  }

  /** A gfn of VM {@code vm} backed by a KSM frame. */
  private static int ksmGfn(SequentialEngine e, int vm) {
    PageFrames f = e.frames();
    for (int g = 0; g < PAGES; g++) {
      if (f.isKsmPage(f.ptePfn(vm, g))) {
        return g;
      }
    }
    throw new AssertionError("no KSM page in vm " + vm);
  }

  @Test
  void runsWithAndWithoutTheChecks_agree_underEveryPolicy() {
    for (Policy p : Policy.values()) {
      SequentialEngine with = ran(p, true, 0.9);
      SequentialEngine without = ran(p, false, 0.9);
      assertThat(with.simNanos()).as(p.name()).isEqualTo(without.simNanos());
      assertThat(with.frames().framesSaved()).isEqualTo(without.frames().framesSaved());
      assertThat(with.checker().checks()).isGreaterThan(100);
    }
  }

  @Test
  void writableShadowEntryOnASharedFrame_isReportedByTheNextCheck() {
    SequentialEngine e = ran(Policy.STRICT, true);
    HostMmuCore host = e.host(0);
    HpteCacheEntry victim =
        host.cache(0).entries().stream().filter(x -> x.pte().mayWrite()).findFirst().orElseThrow();
    int ksmPfn = e.frames().ptePfn(0, ksmGfn(e, 0));
    // remap the entry's page writable onto the KSM frame: what a broken fault path would do
    host.unmapPage(0, victim.pte(), false);
    long gvsid = e.guest(0).esidToVsid(0, victim.pte().eaddr() >>> 28);
    host.mapPage(0, victim.pte(), gvsid, ksmPfn, true);
    assertThatThrownBy(() -> e.checker().check(e.simNanos()))
        .hasMessageContaining(
            "writable shadow entry for gfn 0x" + Long.toHexString(victim.pte().gfn()))
        .hasMessageContaining("maps shared pfn " + ksmPfn);
  }

  @Test
  void hostPteChangedWithoutAFlushRequest_underQ8_isReportedByTheNextCheck() {
    SequentialEngine e = ran(Policy.LEGACY, true);
    e.frames().zapPages(1, 7, 1); // an invalidation: the notifier requests a flush of every vCPU
    e.checker().check(e.simNanos()); // passes: the request is pending
    e.frames().zapPages(0, 9, 1);
    for (VcpuRuntime v : e.vm(0).vcpus) {
      v.pendingFlush = false; // the request lost
    }
    assertThatThrownBy(() -> e.checker().check(e.simNanos()))
        .hasMessageContaining("vm 0 vcpu 0: no flush pending after the host PTE");
  }

  @Test
  void ksmCounterOffByOne_isReportedByTheNextCheck() throws Exception {
    SequentialEngine e = ran(Policy.FIXED, true);
    Field kept = KsmScanner.class.getDeclaredField("counters"); // the scanner's KsmCounters
    kept.setAccessible(true);
    Object counters = kept.get(e.ksm());
    Field f = counters.getClass().getDeclaredField("pagesShared");
    f.setAccessible(true);
    f.setLong(counters, f.getLong(counters) - 1);
    assertThatThrownBy(() -> e.checker().check(e.simNanos()))
        .hasMessageContaining("counters kept/recount");
  }

  @Test
  void pinnedFrameOutlivingItsMappings_isNoViolation_andItsRelease_isConsistent() {
    SequentialEngine e = ran(Policy.STRICT, true);
    int pfn = e.frames().ptePfn(0, ksmGfn(e, 0));
    e.frames().pinFrame(pfn);
    e.checker().check(e.simNanos()); // a pin is no violation
    e.frames().zapPages(0, 0, PAGES); // unmaps everything; the pinned frame stays
    e.frames().zapPages(1, 0, PAGES);
    e.checker().check(e.simNanos());
    e.frames().unpinFrame(pfn); // the last reference: the frame is freed, consistently
    e.checker().check(e.simNanos());
    e.checker().checkFull(e.simNanos());
  }
}
