package org.mmumesh.ksm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.api.Test;
import org.mmumesh.checkpoint.CheckpointCompleteness;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.KsmState;
import org.mmumesh.pageframe.PageFrames;

/**
 * Checkpoint and restore of {@link KsmScanner} (issue 13), together with the {@link PageFrames} it
 * scans: round trip, continuation from a random cut (in the middle of a pass, with the unstable
 * tree populated, synchronous and with the merge handshake), the completeness guard and bad states.
 */
class KsmCheckpointTest {
  private static final int VMS = 3;
  private static final int PAGES = 24;

  /** A host: frames, ksmd, and (gated) whether merges wait for acknowledged invalidations. */
  private record Host(PageFrames pf, KsmScanner ksm, boolean gated) {
    static Host fresh(boolean gated) {
      PageFrames pf = new PageFrames(2);
      if (gated) {
        pf.trackInvalidations(vm -> vm != 2);
      }
      KsmScanner ksm = gated ? new KsmScanner(pf, pf::invalidationPending) : new KsmScanner(pf);
      for (int v = 0; v < VMS; v++) {
        pf.createVm(v);
        pf.addSlot(v, 0, 0, PAGES, 0, false);
        ksm.madviseMergeable(v, 0, PAGES - 4);
      }
      ksm.setRun(KsmScanner.RUN_MERGE);
      return new Host(pf, ksm, gated);
    }

    /** A barrier (no acknowledgement outstanding), then both checkpoints restored. */
    Host restoredCopy() {
      pf.completeInvalidations();
      PageFrames pf2 = PageFrames.restore(pf.checkpoint());
      KsmState s = ksm.checkpoint();
      if (gated) {
        pf2.trackInvalidations(vm -> vm != 2);
        return new Host(pf2, KsmScanner.restore(s, pf2, pf2::invalidationPending), true);
      }
      return new Host(pf2, KsmScanner.restore(s, pf2), false);
    }

    void apply(long seed, List<String> out) {
      Random r = new Random(seed);
      int vm = r.nextInt(VMS);
      long gfn = r.nextInt(PAGES);
      int op = r.nextInt(20);
      try {
        out.add(op + ": " + call(r, op, vm, gfn) + " " + ksm.stats());
      } catch (IllegalArgumentException | IllegalStateException e) {
        out.add(op + ": " + e.getMessage());
      }
    }

    private Object call(Random r, int op, int vm, long gfn) {
      switch (op) {
        case 0, 1:
          {
            var res = pf.gfnToPfnProt(vm, gfn, true);
            pf.store(vm, gfn, 0, r.nextInt(2));
            return res;
          }
        case 2:
          return pf.gfnToPfnProt(vm, gfn, false);
        case 3, 4, 5:
          pf.populate(vm, gfn, r.nextInt(4));
          return pf.ptePfn(vm, gfn);
        case 6, 7, 8, 9, 10:
          return ksm.scanBatch(1 + r.nextInt(30)) + " " + ksm.handshakePending();
        case 11:
          pf.completeInvalidations();
          return ksm.scanBatch(r.nextInt(60));
        case 12:
          pf.zapPages(vm, gfn, 1 + r.nextInt(2));
          return pf.framesAllocated();
        case 13:
          {
            int p = pf.ptePfn(vm, gfn);
            if (p > 0 && pf.pinCount(p) == 0) {
              pf.pinFrame(p);
              long v = ksm.scanBatch(10);
              pf.unpinFrame(p);
              return v;
            }
            return p;
          }
        case 14:
          if (r.nextInt(3) == 0) {
            ksm.madviseUnmergeable(vm, gfn, 1 + r.nextInt(3));
          } else {
            ksm.madviseMergeable(vm, gfn, 1 + r.nextInt(4));
          }
          return ksm.rmapItems();
        case 15:
          return ksm.advanceTo(ksm.nextBatchNanos() + r.nextInt(3) * 20_000_000L);
        case 16:
          ksm.setSleepMillisecs(1 + r.nextInt(30));
          ksm.setPagesToScan(r.nextInt(40));
          return ksm.nextBatchNanos();
        case 17:
          if (r.nextInt(8) == 0) {
            ksm.setRun(r.nextInt(3));
          }
          return ksm.run();
        case 18:
          if (ksm.run() == KsmScanner.RUN_MERGE) {
            pf.completeInvalidations();
            return ksm.scanFullPasses(1);
          }
          ksm.setRun(KsmScanner.RUN_MERGE);
          return "restarted";
        default:
          return pf.load(vm, gfn, 8);
      }
    }
  }

  private static List<String> dump(Host h) {
    List<String> d = new ArrayList<>();
    d.add(
        h.ksm().stats()
            + " visited "
            + h.ksm().pagesVisited()
            + " next "
            + h.ksm().nextBatchNanos()
            + " rewinds "
            + h.ksm().handshakeRewinds()
            + " abandoned "
            + h.ksm().handshakesAbandoned());
    d.add("violations " + h.ksm().counterViolations() + " " + h.pf().invariantViolations());
    for (int v = 0; v < VMS; v++) {
      for (long g = 0; g < PAGES; g++) {
        int p = h.pf().ptePfn(v, g);
        d.add(v + "/" + g + " " + p + " ksm " + (p >= 0 && h.pf().isKsmPage(p)));
      }
    }
    return d;
  }

  @Test
  void roundTrip_midPass_restoredCopyWritesTheSameState_andCountsAlike() {
    Host h = Host.fresh(false);
    Random r = new Random(3);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      h.apply(r.nextLong(), out);
    }
    while (h.ksm().checkpoint().getMmList().getCursorAtHead()) {
      h.ksm().scanBatch(1);
    }
    KsmState s = h.ksm().checkpoint();
    Host copy = h.restoredCopy();

    assertThat(copy.ksm().checkpoint()).isEqualTo(s);
    assertThat(dump(copy)).isEqualTo(dump(h));
    assertThat(copy.ksm().counterViolationsIncremental()).isEmpty();
    assertThat(h.ksm().pagesShared()).isPositive();
    assertThat(s.getUnstableTree().getUsedSlots()).isPositive();
  }

  @Property(tries = 80)
  void continuation_fromARandomCut_matchesTheRunThatNeverStopped(
      @ForAll long seed, @ForAll @IntRange(min = 0, max = 500) int cut, @ForAll boolean gated) {
    int total = 500;
    Random r = new Random(seed);
    long[] ops = new long[total];
    for (int i = 0; i < total; i++) {
      ops[i] = r.nextLong();
    }
    Host a = Host.fresh(gated);
    List<String> outA = new ArrayList<>();
    for (int i = 0; i < cut; i++) {
      a.apply(ops[i], outA);
    }
    if (cut % 2 == 1) {
      a.ksm().scanBatch(1 + cut % 7); // cut inside a pass more often
    }
    KsmState atCut = a.ksm().checkpoint();
    Host b = a.restoredCopy();
    outA.clear();
    List<String> outB = new ArrayList<>();
    for (int i = cut; i < total; i++) {
      a.apply(ops[i], outA);
      b.apply(ops[i], outB);
    }
    assertThat(outB).isEqualTo(outA);
    assertThat(b.ksm().checkpoint()).isEqualTo(a.ksm().checkpoint());
    assertThat(b.pf().checkpoint()).isEqualTo(a.pf().checkpoint());
    assertThat(dump(b)).isEqualTo(dump(a));
    Statistics.label("cut mid-pass with an unstable tree")
        .collect(
            !atCut.getMmList().getCursorAtHead() && atCut.getUnstableTree().getUsedSlots() > 0);
    Statistics.label("cut mid-pass with an unstable tree")
        .coverage(c -> c.check(true).percentage(p -> p > 20));
  }

  // ---------------------------------------------------------------- completeness guard

  private static final Map<Class<?>, Set<String>> WRITTEN =
      Map.ofEntries(
          Map.entry(
              KsmScanner.class,
              Set.of(
                  "items",
                  "stable",
                  "counters",
                  "mm",
                  "unstable",
                  "rewoundItem",
                  "handshakePending",
                  "handshakeRewinds",
                  "handshakesAbandoned",
                  "pagesToScan",
                  "sleepMillisecs",
                  "run",
                  "nextBatchNanos",
                  "nowNanos")),
          Map.entry(RmapItems.class, Set.of("oldChecksum", "node", "flags", "seq")),
          Map.entry(
              StableTree.class,
              Set.of(
                  "key",
                  "kpfn",
                  "kgen",
                  "items",
                  "refs",
                  "inTree",
                  "top",
                  "freeHead",
                  "table",
                  "size",
                  "live")),
          Map.entry(UnstableTree.class, Set.of("ids", "tags", "used")),
          Map.entry(UnstableNodes.class, Set.of("tree")),
          Map.entry(StableNodes.class, Set.of()),
          Map.entry(
              MmList.class,
              Set.of(
                  "slots",
                  "nextId",
                  "atHead",
                  "cursorSlot",
                  "cursorRegion",
                  "cursorHva",
                  "seqnr",
                  "curVm",
                  "curHva")),
          Map.entry(MmList.MmSlot.class, Set.of("vm", "regions")),
          Map.entry(MergeableRegion.class, Set.of("vm", "start", "end", "idBase")),
          Map.entry(
              KsmCounters.class,
              Set.of("pagesShared", "pagesSharing", "pagesUnshared", "rmapItems", "pagesVisited")),
          Map.entry(KsmFrameScanner.class, Set.of("scanner")));

  private static final Map<Class<?>, Set<String>> NOT_WRITTEN =
      Map.ofEntries(
          // pf, gate: given to restore; stableNodes, walk: hold only references to the parts;
          // audit: re-attached on first use; curPfn, rewind, revisiting: scratch of one batch
          Map.entry(
              KsmScanner.class,
              Set.of(
                  "pf", "gate", "stableNodes", "walk", "audit", "curPfn", "rewind", "revisiting")),
          // capacity: memory; dirty: the audit's
          Map.entry(RmapItems.class, Set.of("capacity", "dirty")),
          Map.entry(StableTree.class, Set.of("dirty")),
          // pages: wiring; foundPfn: scratch of one search
          Map.entry(UnstableTree.class, Set.of("pages", "foundPfn")),
          // references to the other parts; found*: scratch of one search
          Map.entry(
              UnstableNodes.class,
              Set.of("items", "mm", "counters", "pf", "foundVm", "foundHva", "foundPfn")),
          Map.entry(StableNodes.class, Set.of("stable", "items", "counters", "pf")),
          // regionsById: the regions of every slot sorted by id, rebuilt
          Map.entry(MmList.class, Set.of("regionsById")),
          Map.entry(MmList.MmSlot.class, Set.of()),
          Map.entry(MergeableRegion.class, Set.of()),
          Map.entry(KsmCounters.class, Set.of()),
          Map.entry(KsmFrameScanner.class, Set.of()));

  @Test
  void completenessGuard_everyFieldIsWrittenOrListedAsDerived() {
    CheckpointCompleteness.assertEveryFieldListed(WRITTEN, NOT_WRITTEN);
  }

  // ---------------------------------------------------------------- bad states

  private static Host sample() {
    Host h = Host.fresh(false);
    Random r = new Random(9);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      h.apply(r.nextLong(), out);
    }
    return h;
  }

  @Test
  void countersThatDisagreeWithTheTrees_areRejected() {
    Host h = sample();
    KsmState s = h.ksm().checkpoint();
    KsmState bad =
        s.toBuilder()
            .setCounters(
                s.getCounters().toBuilder().setRmapItems(s.getCounters().getRmapItems() + 1))
            .build();
    assertThatThrownBy(() -> KsmScanner.restore(bad, h.pf()))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageContaining("rmap_items");
  }

  @Test
  void badFieldsAreRejectedNamingTheField() {
    Host h = sample();
    KsmState s = h.ksm().checkpoint();
    assertThatThrownBy(
            () ->
                KsmScanner.restore(
                    s.toBuilder().setControls(s.getControls().toBuilder().setRun(3)).build(),
                    h.pf()))
        .hasMessageContaining("controls.run: 3 is out of range; allowed 0 to 2");
    assertThatThrownBy(
            () ->
                KsmScanner.restore(
                    s.toBuilder()
                        .setRmapItems(
                            s.getRmapItems().toBuilder().setFlags(ByteString.copyFrom(new byte[2])))
                        .build(),
                    h.pf()))
        .hasMessageContaining("rmap_items.flags");
    assertThatThrownBy(
            () ->
                KsmScanner.restore(
                    s.toBuilder()
                        .setMmList(
                            s.getMmList().toBuilder()
                                .setMmSlots(0, s.getMmList().getMmSlots(0).toBuilder().setVmId(7)))
                        .build(),
                    h.pf()))
        .hasMessageContaining("mm_list.mm_slots[0].vm_id: 7");
    byte[] table = s.getStableTree().getTable().toByteArray();
    int i = 0;
    while (table[i] == 0) {
      i++;
    }
    table[i - i % 8] = 99; // the slot's node number becomes 99
    table[i - i % 8 + 1] = 0;
    assertThatThrownBy(
            () ->
                KsmScanner.restore(
                    s.toBuilder()
                        .setStableTree(
                            s.getStableTree().toBuilder().setTable(ByteString.copyFrom(table)))
                        .build(),
                    h.pf()))
        .hasMessageContaining("stable_tree.table[");
  }
}
