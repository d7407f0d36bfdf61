package org.mmumesh.pageframe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.mmumesh.checkpoint.CheckpointCompleteness;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.FrameChunkState;
import org.mmumesh.checkpoint.v1.PageFramesState;

/**
 * Checkpoint and restore of {@link PageFrames} (issue 13): the round trip, a run continued from a
 * restored copy, the completeness guard over every field of the core's parts, and bad states.
 */
class PageFramesCheckpointTest {

  private static PageFrames driven(long seed, int ops, List<String> out) {
    PageFrames pf = PageFramesOps.newHost(out);
    Random r = new Random(seed);
    for (int i = 0; i < ops; i++) {
      PageFramesOps.apply(pf, r.nextLong(), out);
    }
    return pf;
  }

  @Test
  void roundTrip_restoredCopyWritesTheSameState_andAnswersAlike() {
    PageFrames pf = driven(7, 3000, new ArrayList<>());
    PageFramesState s = pf.checkpoint();
    PageFrames copy = PageFrames.restore(s);

    assertThat(copy.checkpoint()).isEqualTo(s);
    assertThat(PageFramesOps.dump(copy)).isEqualTo(PageFramesOps.dump(pf));
    assertThat(copy.invariantViolations()).isEmpty();
    assertThat(copy.invariantViolationsIncremental()).isEmpty();
    // the run reached the interesting states
    assertThat(pf.cowKsm()).isPositive();
    assertThat(pf.framesSavedByKsm()).isPositive();
    assertThat(s.getFrameTable().getPinnedPfnsCount()).isPositive();
    assertThat(s.getVmsList()).anySatisfy(v -> assertThat(v.getLeaseCountsCount()).isPositive());
  }

  @Test
  void roundTrip_keepsPendingInvalidations_ofTheMergeHandshake() {
    PageFrames pf = PageFramesOps.newHost(new ArrayList<>());
    pf.trackInvalidations(vm -> vm == 1);
    pf.gfnToPfnProt(1, 5, true);
    int p = pf.ptePfn(1, 5);
    assertThat(pf.writeProtectPage(1, 5, p)).isTrue();

    PageFrames copy = PageFrames.restore(pf.checkpoint());

    assertThat(copy.pendingInvalidations()).isEqualTo(1);
    assertThat(copy.invalidationPending(1, 5)).isTrue();
    assertThat(copy.invalidationPending(1, 6)).isFalse();
    copy.completeInvalidations();
    assertThat(copy.pendingInvalidations()).isZero();
  }

  @Property(tries = 60)
  void continuation_fromARandomCut_matchesTheRunThatNeverStopped(
      @ForAll long seed, @ForAll @IntRange(min = 0, max = 600) int cut) {
    int total = 600;
    Random r = new Random(seed);
    long[] ops = new long[total];
    for (int i = 0; i < total; i++) {
      ops[i] = r.nextLong();
    }
    List<String> outA = new ArrayList<>();
    PageFrames a = PageFramesOps.newHost(outA);
    for (int i = 0; i < cut; i++) {
      PageFramesOps.apply(a, ops[i], outA);
    }
    List<String> outB = new ArrayList<>();
    PageFrames b = PageFrames.restore(a.checkpoint());
    PageFramesOps.listen(b, outB);
    outA.clear();
    for (int i = cut; i < total; i++) {
      PageFramesOps.apply(a, ops[i], outA);
      PageFramesOps.apply(b, ops[i], outB);
    }
    assertThat(outB).isEqualTo(outA);
    assertThat(b.checkpoint()).isEqualTo(a.checkpoint());
    assertThat(PageFramesOps.dump(b)).isEqualTo(PageFramesOps.dump(a));
  }

  @Test
  void continuation_acrossReleasedChunks_allocatesTheSamePfns() {
    // 3 chunks of frames, then the middle one emptied (released) and part of the first freed:
    // the restored table must hand out the same pfns, from the free lists and the released chunk.
    int pages = 3 * FrameTable.CHUNK;
    PageFrames a = new PageFrames(16);
    a.createVm(0);
    a.addSlot(0, 0, 0, pages + 1000, 0, false);
    for (long g = 0; g < pages; g++) {
      a.populate(0, g, g);
    }
    a.zapPages(0, FrameTable.CHUNK - 1, FrameTable.CHUNK + 1);
    a.zapPages(0, 10, 20);
    PageFramesState s = a.checkpoint();
    assertThat(s.getFrameTable().getChunks(1).getCapacityFrames()).isZero();
    assertThat(s.getFrameTable().getChunksReleased()).isEqualTo(1);
    PageFrames b = PageFrames.restore(s);
    for (long g = pages; g < pages + 1000; g++) {
      a.gfnToPfnProt(0, g, true);
      b.gfnToPfnProt(0, g, true);
      assertThat(b.ptePfn(0, g)).isEqualTo(a.ptePfn(0, g));
    }
    assertThat(b.checkpoint()).isEqualTo(a.checkpoint());
    assertThat(b.frameCapacity()).isEqualTo(a.frameCapacity());
  }

  @Test
  void faultPageRefs_roundTrip_keepsHoldersWithoutPinningTwice() {
    PageFrames pf = PageFramesOps.newHost(new ArrayList<>());
    FaultPageRefs refs = new FaultPageRefs(pf);
    refs.take(7, pf.gfnToPfnProt(0, 3, true));
    refs.take(9, pf.gfnToPfnProt(1, 4, true));
    refs.take(11, pf.gfnToPfnProt(0, 5, false)); // the zero page: no reference
    int p3 = pf.ptePfn(0, 3);
    pf.zapPages(0, 3, 1); // unmapped while referenced: stays allocated

    PageFrames pf2 = PageFrames.restore(pf.checkpoint());
    FaultPageRefs refs2 = FaultPageRefs.restore(refs.checkpoint(), pf2);

    assertThat(refs2.checkpoint()).isEqualTo(refs.checkpoint());
    assertThat(refs2.size()).isEqualTo(2);
    assertThat(pf2.pinCount(p3)).isEqualTo(1);
    // continuing: releasing frees the unmapped frame in both, and the next allocation agrees
    assertThat(refs2.release(7)).isEqualTo(refs.release(7)).isEqualTo(p3);
    assertThat(pf2.isLiveFrame(p3)).isFalse();
    pf.gfnToPfnProt(0, 20, true);
    pf2.gfnToPfnProt(0, 20, true);
    assertThat(pf2.ptePfn(0, 20)).isEqualTo(pf.ptePfn(0, 20)).isEqualTo(p3);
    assertThat(pf2.checkpoint()).isEqualTo(pf.checkpoint());

    var tooMany = refs.checkpoint().toBuilder().addHolders(12).addPfns(pf.ptePfn(1, 4)).build();
    assertThatThrownBy(() -> FaultPageRefs.restore(tooMany, PageFrames.restore(pf.checkpoint())))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageContaining("pfns[1]")
        .hasMessageContaining("1 pins, fewer than the 2 holders");
  }

  // ---------------------------------------------------------------- completeness guard

  /** Per class of the core: the fields the checkpoint writes (directly or through a part). */
  private static final Map<Class<?>, Set<String>> WRITTEN =
      new java.util.HashMap<>(
          Map.of(
              PageFrames.class,
              Set.of("frames", "vms", "notifiers", "slotUpdates", "refs", "faults"),
              FrameTable.class,
              Set.of(
                  "fingerprint",
                  "mapCount",
                  "generation",
                  "flags",
                  "live",
                  "freeHead",
                  "bump",
                  "genBase",
                  "chunks",
                  "firstRoom",
                  "top",
                  "allocated",
                  "chunksLive",
                  "chunksReleased",
                  "pins"),
              FrameRefs.class,
              Set.of("mappedPtes", "framesInUse", "zeroPtes", "ksmPtes", "ksmFramesInUse"),
              HostFaults.class,
              Set.of("cowBreaks", "cowKsm", "zeroPageCow", "zeroPageMaps", "freshAllocations"),
              HostNotifiers.class,
              Set.of("notifierEvents", "pending"),
              SlotUpdates.class,
              Set.of("nextTicket"),
              KsmPageOps.class,
              Set.of(),
              HostVm.class,
              Set.of("mm", "slots", "notifierSeq"),
              HostMm.class,
              Set.of("chunks", "protReadStart", "protReadEnd"),
              Memslots.class,
              Set.of(
                  "slots",
                  "generation",
                  "leaseGen",
                  "leaseCount",
                  "leaseHead",
                  "leaseSize",
                  "pendingTicket",
                  "pendingGen",
                  "pendingSize")));

  /** Per class: fields not written, each derived, wiring or memory only (see the comments). */
  private static final Map<Class<?>, Set<String>> NOT_WRITTEN =
      new java.util.HashMap<>(
          Map.of(
              // ksmOps: stateless over the other parts; audit: a checker, re-attached on first use
              PageFrames.class,
              Set.of("ksmOps", "audit"),
              // the spare chunk's arrays are memory only; dirty belongs to the audit
              FrameTable.class,
              Set.of("spareFingerprint", "spareMapCount", "spareGeneration", "spareFlags", "dirty"),
              // the shared frame table (wiring)
              FrameRefs.class,
              Set.of("frames"),
              HostFaults.class,
              Set.of("frames", "refs", "notifiers"),
              // listeners, the event feed and the tracking predicate are the owner's wiring
              HostNotifiers.class,
              Set.of("listeners", "frameEvents", "trackedVms"),
              // pendingTickets: the union of the VMs' memslot pending lists, rebuilt from them
              SlotUpdates.class,
              Set.of("notifiers", "listeners", "pendingTickets"),
              KsmPageOps.class,
              Set.of("frames", "refs", "notifiers", "faults"),
              HostVm.class,
              Set.of(),
              // the audit hook and the VM id it reports under (set when an audit attaches)
              HostMm.class,
              Set.of("audit", "vmId"),
              Memslots.class,
              Set.of()));

  static {
    WRITTEN.put(FaultPageRefs.class, Set.of("held"));
    NOT_WRITTEN.put(FaultPageRefs.class, Set.of("frames")); // the frames it pins (wiring)
  }

  @Test
  void completenessGuard_everyFieldIsWrittenOrListedAsDerived() {
    CheckpointCompleteness.assertEveryFieldListed(WRITTEN, NOT_WRITTEN);
  }

  // ---------------------------------------------------------------- bad states

  private static PageFramesState sample() {
    return driven(11, 800, new ArrayList<>()).checkpoint();
  }

  @Test
  void truncatedFingerprints_areRejectedNamingTheField() {
    PageFramesState s = sample();
    FrameChunkState c = s.getFrameTable().getChunks(0);
    PageFramesState bad =
        s.toBuilder()
            .setFrameTable(
                s.getFrameTable().toBuilder()
                    .setChunks(0, c.toBuilder().setFingerprints(c.getFingerprints().substring(8))))
            .build();
    assertThatThrownBy(() -> PageFrames.restore(bad))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageContaining("frame_table.chunks[0].fingerprints")
        .hasMessageContaining("expected");
  }

  @Test
  void mapCountThatDisagreesWithThePtes_isRejected() {
    PageFramesState s = sample();
    FrameChunkState c = s.getFrameTable().getChunks(0);
    byte[] maps = c.getMapCounts().toByteArray();
    int pfn = 1;
    while (c.getFlags().byteAt(pfn) != 0) {
      pfn++;
    }
    maps[pfn * 4] += 1;
    PageFramesState bad =
        s.toBuilder()
            .setFrameTable(
                s.getFrameTable().toBuilder()
                    .setChunks(0, c.toBuilder().setMapCounts(ByteString.copyFrom(maps))))
            .build();
    assertThatThrownBy(() -> PageFrames.restore(bad))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageContaining("pfn " + pfn + " map count");
  }

  @Test
  void unknownFlagsAndBrokenFreeLists_areRejected() {
    PageFramesState s = sample();
    FrameChunkState c = s.getFrameTable().getChunks(0);
    byte[] flags = c.getFlags().toByteArray();
    flags[1] = 9;
    PageFramesState badFlags =
        s.toBuilder()
            .setFrameTable(
                s.getFrameTable().toBuilder()
                    .setChunks(0, c.toBuilder().setFlags(ByteString.copyFrom(flags))))
            .build();
    assertThatThrownBy(() -> PageFrames.restore(badFlags))
        .hasMessageContaining("frame_table.chunks[0].flags[1]: 9")
        .hasMessageContaining("allowed");

    assertThat(c.getFreeHeadIndex()).isNotNegative();
    PageFramesState badHead =
        s.toBuilder()
            .setFrameTable(
                s.getFrameTable().toBuilder().setChunks(0, c.toBuilder().setFreeHeadIndex(-1)))
            .build();
    assertThatThrownBy(() -> PageFrames.restore(badHead))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageContaining("free_head_index");
  }

  @Test
  void badVmsAndMemslots_areRejectedNamingTheField() {
    PageFramesState s = sample();
    PageFramesState dupVm = s.toBuilder().setVms(1, s.getVms(1).toBuilder().setVmId(0)).build();
    assertThatThrownBy(() -> PageFrames.restore(dupVm))
        .hasMessageContaining("vms[1].vm_id: 0 is out of range; allowed 1 to 65535");

    PageFramesState badSlot =
        s.toBuilder()
            .setVms(
                0,
                s.getVms(0).toBuilder()
                    .setMemslots(0, s.getVms(0).getMemslots(0).toBuilder().setPageCount(0)))
            .build();
    assertThatThrownBy(() -> PageFrames.restore(badSlot))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageContaining("vms[0].memslots[0].page_count: 0");

    PageFramesState oddLeases =
        s.toBuilder().setVms(0, s.getVms(0).toBuilder().addLeaseCounts(3)).build();
    assertThatThrownBy(() -> PageFrames.restore(oddLeases))
        .hasMessageContaining("vms[0].lease_counts count");

    PageFramesState shortPtes =
        s.toBuilder()
            .setVms(
                0,
                s.getVms(0).toBuilder()
                    .setPteChunks(
                        0,
                        s.getVms(0).getPteChunks(0).toBuilder()
                            .setPtes(ByteString.copyFrom(new byte[12]))))
            .build();
    assertThatThrownBy(() -> PageFrames.restore(shortPtes))
        .hasMessageContaining("vms[0].pte_chunks[0].ptes: 12 bytes");
  }

  @Test
  void checkpoint_changesNothing() {
    PageFrames pf = driven(5, 500, new ArrayList<>());
    List<String> before = PageFramesOps.dump(pf);
    PageFramesState s1 = pf.checkpoint();
    PageFramesState s2 = pf.checkpoint();
    assertThat(s2).isEqualTo(s1);
    assertThat(PageFramesOps.dump(pf)).isEqualTo(before);
    assertThat(Arrays.asList(s1.toByteArray().length)).allSatisfy(n -> assertThat(n).isPositive());
  }
}
