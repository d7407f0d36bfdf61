package org.mmumesh.vcpu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Counts;
import org.mmumesh.common.FaultBits;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.common.VsidTags;
import org.mmumesh.guestmmu.Cpu64State;
import org.mmumesh.hostmmu.Lookup;

/** The access path's decisions and counts, as both engines get them from {@link VcpuCore}. */
class VcpuCoreTest {
  private static final long EA = 0x1234_5000L;

  private final CBitWatch watch = new CBitWatch();

  private VcpuCore core(Policy p) {
    VcpuCore c =
        new VcpuCore(
            new Tlb(64), watch, new PageFaultHandler(MmuOptions.defaults(p)), 4, Counts.zero());
    c.setMode(7);
    return c;
  }

  private static Cpu64State cpu() {
    return new Cpu64State().setMsr(true, true, true);
  }

  private static final Need MISS = new Need.SegmentVsid(EA >>> 28);

  /** The exit a need names (it must be one). */
  private static HostFault exitOf(Need n) {
    assertThat(n).isInstanceOf(Need.Fault.class);
    return ((Need.Fault) n).fault();
  }

  @Test
  void begin_countsTheAccessByKind_andAMissNeedsTheSegmentsGuestVsid() {
    VcpuCore c = core(Policy.STRICT);
    assertThat(c.begin(Access.LOAD, EA, 0)).isEqualTo(MISS);
    assertThat(c.begin(Access.STORE, EA, 0)).isEqualTo(MISS);
    assertThat(c.begin(Access.IFETCH, EA, 0)).isEqualTo(MISS);
    Counts n = c.counts();
    assertThat(n.get(Counter.ACCESSES)).isEqualTo(3);
    assertThat(n.get(Counter.LOADS)).isEqualTo(1);
    assertThat(n.get(Counter.STORES)).isEqualTo(1);
    assertThat(n.get(Counter.IFETCHES)).isEqualTo(1);
    assertThat(n.get(Counter.TLB_HITS)).isZero();
  }

  @Test
  void onVsid_needsTheHostLookup_orWithoutAVsidIsANohpteExit_andMissIsTheRetrysFirstNeed() {
    VcpuCore c = core(Policy.STRICT);
    c.begin(Access.STORE, EA, 0);
    assertThat(c.onVsid(0x77)).isEqualTo(new Need.HostLookup(0x77, EA));
    HostFault f = exitOf(c.onVsid(VsidTags.NO_VSID));
    assertThat(VcpuCore.exitName(f)).isEqualTo("NOHPTE");
    assertThat(f.isData()).isTrue();
    assertThat(c.miss()).isEqualTo(MISS);
    c.begin(Access.IFETCH, EA, 0);
    assertThat(exitOf(c.onVsid(VsidTags.NO_VSID)).isData()).isFalse();
    assertThat(c.get(Counter.ACCESSES)).isEqualTo(2); // needs are not counted
  }

  @Test
  void onLookup_permittingHpte_fillsTheTlb_soTheNextAccessHits_inTheSameEpochOnly() {
    VcpuCore c = core(Policy.STRICT);
    c.begin(Access.STORE, EA, 3);
    assertThat(c.onLookup(9, Lookup.HIT_RW, 77, 3)).isEqualTo(new Need.Hit(77, false, false));
    assertThat(c.begin(Access.STORE, EA + 8, 3)).isEqualTo(new Need.Hit(77, true, false));
    int t = c.tlb().lookup(Tlb.tag(EA, 7), 3);
    assertThat(c.tlb().prot(t)).isEqualTo(Tlb.PROT_WRITE | Tlb.PROT_EXEC);
    assertThat(c.begin(Access.LOAD, EA, 4)).as("a newer epoch kills the entry").isEqualTo(MISS);
    assertThat(c.get(Counter.HTAB_HITS)).isEqualTo(1);
    assertThat(c.get(Counter.TLB_HITS)).isEqualTo(1);
  }

  @Test
  void tlbEntryThatDoesNotPermit_isAMiss_notAHit() {
    VcpuCore c = core(Policy.STRICT);
    c.begin(Access.LOAD, EA, 0);
    assertThat(c.onLookup(1, Lookup.HIT_RO_NOEXEC, 5, 0)) // a load: permitted
        .isEqualTo(new Need.Hit(5, false, false));
    assertThat(c.begin(Access.STORE, EA, 0)).isEqualTo(MISS);
    assertThat(c.begin(Access.IFETCH, EA, 0)).isEqualTo(MISS);
    assertThat(c.get(Counter.TLB_HITS)).isZero();
  }

  @Test
  void onLookup_classifiesTheExit_noHpte_protfault_noexec() {
    VcpuCore c = core(Policy.STRICT);
    c.begin(Access.STORE, EA, 0);
    assertThat(VcpuCore.exitName(exitOf(c.onLookup(-1, null, -1, 0)))).isEqualTo("NOHPTE");
    c.begin(Access.STORE, EA, 0);
    assertThat(VcpuCore.exitName(exitOf(c.onLookup(2, Lookup.HIT_RO, 5, 0))))
        .isEqualTo("PROTFAULT");
    c.begin(Access.IFETCH, EA, 0);
    assertThat(VcpuCore.exitName(exitOf(c.onLookup(2, Lookup.HIT_RW_NOEXEC, 5, 0))))
        .isEqualTo("NOEXEC");
    assertThat(c.get(Counter.HTAB_HITS)).isZero();
  }

  @Test
  void onFault_countsTheExit_andLegacyReflectsAProtfaultRaw_countedAsDsiAndRaw() {
    VcpuCore c = core(Policy.LEGACY);
    c.begin(Access.STORE, EA, 0);
    FaultStep s = c.onFault(exitOf(c.onLookup(2, Lookup.HIT_RO, 5, 0)), cpu());
    assertThat(s).isInstanceOf(FaultStep.Reflect.class);
    assertThat(((FaultStep.Reflect) s).vector()).isEqualTo(FaultBits.VEC_DSI);
    Counts n = c.counts();
    assertThat(n.get(Counter.PROTFAULT_EXITS)).isEqualTo(1);
    assertThat(n.get(Counter.REFLECTED_DSI)).isEqualTo(1);
    assertThat(n.get(Counter.REFLECTED_RAW)).isEqualTo(1);
    assertThat(n.get(Counter.NOHPTE_EXITS) + n.get(Counter.NOEXEC_EXITS)).isZero();
  }

  @Test
  void onFault_noexec_isReflectedAsAnIsi_andFixedHandlesAProtfault() {
    VcpuCore c = core(Policy.FIXED);
    c.begin(Access.IFETCH, EA, 0);
    assertThat(c.onFault(exitOf(c.onLookup(2, Lookup.HIT_RW_NOEXEC, 5, 0)), cpu()))
        .isInstanceOf(FaultStep.Reflect.class);
    assertThat(c.get(Counter.NOEXEC_EXITS)).isEqualTo(1);
    assertThat(c.get(Counter.REFLECTED_ISI)).isEqualTo(1);
    c.begin(Access.STORE, EA, 0);
    FaultStep s = c.onFault(exitOf(c.onLookup(2, Lookup.HIT_RO, 5, 0)), cpu());
    assertThat(s).isEqualTo(new FaultStep.Xlate(EA, Access.STORE, true));
    assertThat(c.get(Counter.PROTFAULT_EXITS)).isEqualTo(1);
    assertThat(c.get(Counter.REFLECTED_DSI)).isZero();
  }

  @Test
  void watchedPage_storeNeedsTheCBit_missedCCounted_thenTheWatchEnds() {
    VcpuCore c = core(Policy.LEGACY);
    watch.onMapped(EA, false, false, Access.LOAD); // Q4: writable while C was clear
    c.begin(Access.STORE, EA, 0);
    assertThat(c.onLookup(1, Lookup.HIT_RW, 5, 0)).isEqualTo(new Need.Hit(5, false, true));
    int t = c.tlb().lookup(Tlb.tag(EA, 7), 0);
    assertThat(c.tlb().prot(t) & CBitWatch.PROT_WATCH_C).isNotZero();
    c.onCRead(true, false, 0);
    assertThat(c.get(Counter.MISSED_C)).isEqualTo(1);
    assertThat(c.begin(Access.STORE, EA, 0))
        .as("still watched")
        .isEqualTo(new Need.Hit(5, true, true));
    c.onCRead(true, true, 0); // C set now: the watch ends, the entry loses its bit
    assertThat(c.get(Counter.MISSED_C)).isEqualTo(1);
    assertThat(c.begin(Access.STORE, EA, 0)).isEqualTo(new Need.Hit(5, true, false));
    assertThat(watch.watches(EA)).isFalse();
  }

  @Test
  void aLoadThroughAWatchedEntry_needsNoCBit() {
    VcpuCore c = core(Policy.LEGACY);
    watch.onMapped(EA, false, false, Access.LOAD);
    c.begin(Access.LOAD, EA, 0);
    assertThat(c.onLookup(1, Lookup.HIT_RW, 5, 0)).isEqualTo(new Need.Hit(5, false, false));
  }

  @Test
  void fail_countsAndNamesTheAccess_andTheLivelockBoundFailsTheFifthFault() {
    VcpuCore c = core(Policy.STRICT);
    c.begin(Access.STORE, 0xABC0, 0);
    for (int i = 0; i < 4; i++) {
      assertThat(c.admit(false)).isNull();
    }
    String cause = c.admit(false);
    assertThat(cause).isEqualTo("livelock: more than 4 faults");
    assertThat(c.fail(2, 1, cause)).isEqualTo("vm 2 vcpu 1 STORE at 0xabc0: " + cause);
    assertThat(c.get(Counter.FAILED_ACCESSES)).isEqualTo(1);
    c.begin(Access.LOAD, EA, 0); // a new access: the bound starts again
    assertThat(c.admit(false)).isNull();
  }

  @Test
  void shellCounters_andRestoredCounters_continue() {
    long[] v = new long[Counter.COUNT];
    v[Counter.ACCESSES.ordinal()] = 10;
    v[Counter.RETRIES.ordinal()] = 2;
    VcpuCore c =
        new VcpuCore(
            new Tlb(8),
            watch,
            new PageFaultHandler(MmuOptions.defaults(Policy.STRICT)),
            4,
            new Counts(v));
    c.count(Counter.RETRIES);
    c.count(Counter.STORES_LOST, 3);
    c.begin(Access.LOAD, EA, 0);
    assertThat(c.get(Counter.ACCESSES)).isEqualTo(11);
    assertThat(c.get(Counter.RETRIES)).isEqualTo(3);
    assertThat(c.counts().get(Counter.STORES_LOST)).isEqualTo(3);
    long[] sum = new long[Counter.COUNT];
    c.addTo(sum);
    c.addTo(sum);
    assertThat(sum[Counter.ACCESSES.ordinal()]).isEqualTo(22);
  }
}
