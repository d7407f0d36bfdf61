package org.mmumesh.hostmmu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;
import org.mmumesh.common.GuestPte;
import org.mmumesh.common.PageSize;
import org.mmumesh.common.VsidTags;

/**
 * Random sequences of map (following the fault handler's protocol: map on a MISS, unmap then map on
 * a store to a read-only hit), flush, vflush, pflush and notifier events keep every invariant of
 * {@link HostMmuCore#checkInvariants()}, and the cache count equals the live (plus, under Q5,
 * stale) entries. Small HTABs, colliding SID-map keys, pages sharing PTEGs and tiny VSID ranges
 * make evictions, SID-map overwrites and VSID exhaustion frequent.
 */
class HostMmuCorePropertyTest {
  /** Guest VSIDs: 0x1, 0x200 and 0x403 share SID-map hash 1; the last is 0x1234 in PR mode. */
  private static final long[] GVSIDS = {
    0x1234L, 0xABCDEL, 0x1L, 0x200L, 0x403L, 0x1234L | VsidTags.VSID_PR
  };

  private static final long[] VP_MASKS = {0xFFFFFFFFFL, 0xFFFFFFFF0L, 0xFFFFFF000L, 0xFFFFFFFFL};
  private static final long[] EA_MASKS = {~0xFFFL, 0x0FFFF000L, 0L, 0xFFFF0000L};

  sealed interface Op permits MapOp, FlushOp, VflushOp, PflushOp, NotifierOp {}

  record MapOp(
      int vcpu,
      int seg,
      int k,
      int low,
      boolean writable,
      boolean mayWrite,
      boolean exec,
      boolean store)
      implements Op {}

  record FlushOp(int vcpu, int seg, int k, int low, int maskIdx) implements Op {}

  record VflushOp(int vcpu, int seg, int k, int low, int maskIdx) implements Op {}

  record PflushOp(int vcpu, int start, int len) implements Op {}

  record NotifierOp(boolean full, int start, int len) implements Op {}

  private static long gvsid(int seg) {
    return GVSIDS[seg];
  }

  private static long ea(int seg, int k, int low) {
    long esid = seg == 5 ? 1 : seg + 1;
    long page = ((long) k << 11) | low;
    return (esid << 28) | (page << 12);
  }

  private static long raddr(int seg, int k, int low) {
    return ((long) (seg * 97 + k * 3 + low) & 0xFFF) << 12;
  }

  private static GuestPte pte(int seg, int k, int low, boolean mayWrite, boolean exec) {
    long ea = ea(seg, k, low);
    long vpage = (gvsid(seg) << 16) | ((ea & 0x0FFFFFFFL) >>> 12);
    return new GuestPte(ea, vpage, raddr(seg, k, low), true, mayWrite, exec, PageSize.SIZE_4K);
  }

  @Provide
  Arbitrary<List<Op>> ops() {
    return opsWith(20, 2, 2, 1, 1, GVSIDS.length - 1, 1);
  }

  /** Mostly maps: PTEG pairs fill up, so evictions and Q5 overwrites happen in most runs. */
  @Provide
  Arbitrary<List<Op>> mapHeavyOps() {
    return opsWith(60, 1, 2, 0, 0, 1, 100);
  }

  Arbitrary<List<Op>> opsWith(
      int wMap, int wFlush, int wVflush, int wPflush, int wNotify, int maxSeg, int minSize) {
    // Biased towards vCPU 0, segment 0 and page offset 0, so that more than 16 distinct pages of
    // one PTEG pair are often live at once (evictions; Q5 overwrites on a 32-bit host).
    Arbitrary<Integer> vcpu = Arbitraries.frequency(Tuple.of(4, 0), Tuple.of(1, 1));
    Arbitrary<Integer> seg =
        Arbitraries.frequencyOf(
            Tuple.of(6, Arbitraries.just(0)),
            Tuple.of(4, Arbitraries.integers().between(1, maxSeg)));
    Arbitrary<Integer> k = Arbitraries.integers().between(0, 23);
    Arbitrary<Integer> low = Arbitraries.frequency(Tuple.of(6, 0), Tuple.of(1, 1), Tuple.of(1, 2));
    Arbitrary<Boolean> b = Arbitraries.of(true, false);
    Arbitrary<MapOp> map = Combinators.combine(vcpu, seg, k, low, b, b, b, b).as(MapOp::new);
    Arbitrary<Integer> maskIdx = Arbitraries.integers().between(0, 3);
    Arbitrary<FlushOp> flush = Combinators.combine(vcpu, seg, k, low, maskIdx).as(FlushOp::new);
    Arbitrary<VflushOp> vflush = Combinators.combine(vcpu, seg, k, low, maskIdx).as(VflushOp::new);
    Arbitrary<Integer> start = Arbitraries.integers().between(0, 0xFFF);
    Arbitrary<Integer> len = Arbitraries.integers().between(0, 0x200);
    Arbitrary<PflushOp> pflush = Combinators.combine(vcpu, start, len).as(PflushOp::new);
    Arbitrary<NotifierOp> notifier = Combinators.combine(b, start, len).as(NotifierOp::new);
    Arbitrary<Op> op =
        Arbitraries.frequencyOf(
            Tuple.of(wMap, map),
            Tuple.of(wFlush, flush),
            Tuple.of(wVflush, vflush),
            Tuple.of(wPflush, pflush),
            Tuple.of(wNotify, notifier));
    return op.list().ofMinSize(minSize).ofMaxSize(400);
  }

  static HostMmuCore core(int setup) {
    return switch (setup) {
      case 0 ->
          new HostMmuCore(
              HostMmuConfig.host64(2).withPtegCount(HostHtab.MIN_PTEGS_64).withEsidBits(2));
      case 1 ->
          new HostMmuCore(
              HostMmuConfig.host32(2, true)
                  .withPtegCount(HostHtab.MIN_PTEGS_32)
                  .withPoolContexts(1));
      default ->
          new HostMmuCore(
              HostMmuConfig.host32(2, false)
                  .withPtegCount(HostHtab.MIN_PTEGS_32)
                  .withPoolContexts(1));
    };
  }

  /** Applies {@code op}; returns what the core answered (a lookup, map result or count). */
  static Object apply(HostMmuCore core, Op op) {
    if (op instanceof MapOp m) {
      long g = gvsid(m.seg());
      long ea = ea(m.seg(), m.k(), m.low());
      GuestPte p = pte(m.seg(), m.k(), m.low(), m.mayWrite(), m.exec());
      Lookup l = core.lookup(m.vcpu(), g, ea);
      if (!l.isHit()) {
        return core.mapPage(m.vcpu(), p, g, raddr(m.seg(), m.k(), m.low()) >>> 12, m.writable());
      } else if (m.store() && !l.isWritable() && m.mayWrite()) {
        // PROTFAULT path (spec 6.2): unmap_page, then map_page after the COW
        int removed = core.unmapPage(m.vcpu(), p, false);
        return removed + " " + core.mapPage(m.vcpu(), p, g, 0x800 + m.k(), true);
      }
      return l;
    } else if (op instanceof FlushOp f) {
      return core.pteFlush(f.vcpu(), ea(f.seg(), f.k(), f.low()), EA_MASKS[f.maskIdx()]);
    } else if (op instanceof VflushOp v) {
      long vpage = pte(v.seg(), v.k(), v.low(), true, true).vpage();
      return core.pteVflush(v.vcpu(), vpage, VP_MASKS[v.maskIdx()]);
    } else if (op instanceof PflushOp p) {
      return core.ptePflush(p.vcpu(), (long) p.start() << 12, ((long) p.start() + p.len()) << 12);
    } else if (op instanceof NotifierOp n) {
      if (n.full()) {
        return core.notifierFullFlush();
      } else {
        return core.notifierRangeFlush((long) n.start() << 12, ((long) n.start() + n.len()) << 12);
      }
    }
    throw new IllegalArgumentException("op: " + op);
  }

  @Property(tries = 300)
  void randomSequences_keepInvariants_andCountsMatchLiveEntries(
      @ForAll @IntRange(min = 0, max = 2) int setup, @ForAll("ops") @Size(max = 400) List<Op> ops) {
    runAndCheck(setup, ops);
  }

  @Property(tries = 150)
  void mapHeavySequences_withEvictions_keepInvariants(
      @ForAll @IntRange(min = 0, max = 2) int setup,
      @ForAll("mapHeavyOps") @Size(max = 400) List<Op> ops) {
    runAndCheck(setup, ops);
    // the generator must really reach the eviction paths, or this property proves little
    Statistics.label("evictions").coverage(c -> c.check(true).percentage(p -> p > 10));
    Statistics.label("q5 stale").coverage(c -> c.check(true).percentage(p -> p > 5));
  }

  private static void runAndCheck(int setup, List<Op> ops) {
    HostMmuCore core = core(setup);
    int step = 0;
    for (Op op : ops) {
      long unsupportedBefore = core.stats().get(HostMmuStats.Counter.UNSUPPORTED_MASK_NOOPS);
      int countBefore = core.cacheCount();
      apply(core, op);
      step++;
      InvariantReport rep = core.checkInvariants();
      assertThat(rep.violations()).as("step %d: %s", step, op).isEmpty();
      assertThat(core.cacheCount()).isEqualTo(rep.liveEntries() + rep.staleEntries());
      assertThat(core.htab().validCount()).isEqualTo(rep.liveEntries());
      if (!core.config().q5()) {
        assertThat(rep.staleEntries()).isZero();
      }
      if (core.stats().get(HostMmuStats.Counter.UNSUPPORTED_MASK_NOOPS) > unsupportedBefore) {
        assertThat(core.cacheCount()).as("unsupported mask is a no-op").isEqualTo(countBefore);
      }
    }
    HostMmuStats s = core.stats();
    Statistics.label("setup").collect(setup);
    Statistics.label("evictions").collect(s.get(HostMmuStats.Counter.HTAB_EVICTIONS) > 0);
    Statistics.label("q5 stale").collect(s.get(HostMmuStats.Counter.Q5_STALE_RECORDS) > 0);
    Statistics.label("q5 clobbers").collect(s.get(HostMmuStats.Counter.HTAB_Q5_CLOBBERS) > 0);
    Statistics.label("vsid exhaustions").collect(s.get(HostMmuStats.Counter.VSID_EXHAUSTIONS) > 0);
    Statistics.label("unreachable").collect(core.checkInvariants().unreachableEntries() > 0);
  }
}
