package org.mmumesh.pageframe;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.PackedArrays;
import org.mmumesh.checkpoint.v1.FrameRefsState;
import org.mmumesh.checkpoint.v1.HostFaultCountersState;
import org.mmumesh.checkpoint.v1.HostVmState;
import org.mmumesh.checkpoint.v1.MemSlotState;
import org.mmumesh.checkpoint.v1.PageFramesState;
import org.mmumesh.checkpoint.v1.PendingInvalidationState;
import org.mmumesh.checkpoint.v1.PteChunkState;

/**
 * Writes a {@link PageFrames} core to a {@link PageFramesState} and builds one back (issue 13).
 *
 * <h2>What is written</h2>
 *
 * The frame table ({@link FrameTable#checkpoint()}: per frame ever used its fingerprint, map count,
 * generation and flags, 17 bytes; the free lists and allocation cursors), each VM's host PTE chunks
 * (4 bytes per host page of every chunk ever touched), PROT_READ regions, memslots with their
 * generation, read leases and pending update tickets, its notifier sequence number; the savings
 * accounting ({@link FrameRefs}), the fault counters ({@link HostFaults}), the notifier event count
 * and pending invalidations ({@link HostNotifiers}) and the next memslot ticket ({@link
 * SlotUpdates}).
 *
 * <p><b>Guest memory contents.</b> A frame's content is its 64-bit fingerprint, so the contents
 * cost 8 bytes per frame: a page mapping the zero page or a KSM page is a 4-byte PTE pointing at
 * the one shared frame, written once.
 *
 * <h2>Not written (wiring or derived)</h2>
 *
 * Listeners, the frame event listener and invalidation tracking's predicate (the owner registers
 * them again); the set of pending tickets of {@link SlotUpdates} (the union of the VMs' pending
 * lists); the incremental audit and its dirty sets (a restored core attaches a new audit on its
 * first incremental check, which checks everything); array capacities and the frame table's spare
 * chunk (memory, not behaviour).
 */
final class PageFramesCheckpoint {
  private PageFramesCheckpoint() {}

  static PageFramesState write(PageFrames pf) {
    PageFramesState.Builder b = PageFramesState.newBuilder();
    b.setFrameTable(pf.frames.checkpoint());
    for (int vm = 0; vm < pf.vms.length; vm++) {
      HostVm v = pf.vms[vm];
      if (v != null) {
        b.addVms(writeVm(vm, v));
      }
    }
    FrameRefs r = pf.refs;
    b.setRefs(
        FrameRefsState.newBuilder()
            .setMappedPtes(r.mappedPtes)
            .setFramesInUse(r.framesInUse)
            .setZeroPtes(r.zeroPtes)
            .setKsmPtes(r.ksmPtes)
            .setKsmFramesInUse(r.ksmFramesInUse));
    HostFaults f = pf.faults;
    b.setFaultCounters(
        HostFaultCountersState.newBuilder()
            .setCowBreaks(f.cowBreaks)
            .setCowKsm(f.cowKsm)
            .setZeroPageCow(f.zeroPageCow)
            .setZeroPageMaps(f.zeroPageMaps)
            .setFreshAllocations(f.freshAllocations));
    b.setNotifierEvents(pf.notifiers.notifierEvents());
    for (long[] e : pf.notifiers.pendingRanges()) {
      b.addPendingInvalidations(
          PendingInvalidationState.newBuilder()
              .setVmId((int) e[0])
              .setStartHvaPage(e[1])
              .setEndHvaPage(e[2]));
    }
    b.setNextSlotTicket(pf.slotUpdates.nextTicket());
    return b.build();
  }

  private static HostVmState writeVm(int vm, HostVm v) {
    HostVmState.Builder b = HostVmState.newBuilder().setVmId(vm).setNotifierSeq(v.notifierSeq);
    for (int c = 0; c < v.mm.chunkCount(); c++) {
      int[] chunk = v.mm.chunk(c);
      if (chunk != null) {
        b.addPteChunks(
            PteChunkState.newBuilder()
                .setChunkIndex(c)
                .setPtes(PackedArrays.ints(chunk, 0, chunk.length)));
      }
    }
    for (long s : v.mm.protReadStarts()) {
      b.addProtReadStartPages(s);
    }
    for (long e : v.mm.protReadEnds()) {
      b.addProtReadEndPages(e);
    }
    v.slots.checkpoint(b);
    return b.build();
  }

  static PageFrames read(PageFramesState s) {
    PageFrames pf = new PageFrames(FrameTable.restore(s.getFrameTable()));
    int top = pf.frames.top();
    int maxVm = -1;
    Set<Long> tickets = new HashSet<>();
    HostVm[] vms = new HostVm[4];
    for (int i = 0; i < s.getVmsCount(); i++) {
      HostVmState vs = s.getVms(i);
      String f = "vms[" + i + "]";
      CheckpointMismatchException.checkRange(
          f + ".vm_id", vs.getVmId(), maxVm + 1, PageFrames.MAX_VM);
      maxVm = vs.getVmId();
      if (maxVm >= vms.length) {
        vms = Arrays.copyOf(vms, Math.max(maxVm + 1, vms.length * 2));
      }
      vms[maxVm] = readVm(f, vs, top, s.getNextSlotTicket(), tickets);
    }
    pf.vms = vms;
    FrameRefsState r = s.getRefs();
    pf.refs.mappedPtes = r.getMappedPtes();
    pf.refs.framesInUse = r.getFramesInUse();
    pf.refs.zeroPtes = r.getZeroPtes();
    pf.refs.ksmPtes = r.getKsmPtes();
    pf.refs.ksmFramesInUse = r.getKsmFramesInUse();
    HostFaultCountersState fc = s.getFaultCounters();
    pf.faults.cowBreaks = fc.getCowBreaks();
    pf.faults.cowKsm = fc.getCowKsm();
    pf.faults.zeroPageCow = fc.getZeroPageCow();
    pf.faults.zeroPageMaps = fc.getZeroPageMaps();
    pf.faults.freshAllocations = fc.getFreshAllocations();
    List<long[]> pending = new ArrayList<>();
    for (int i = 0; i < s.getPendingInvalidationsCount(); i++) {
      PendingInvalidationState p = s.getPendingInvalidations(i);
      String f = "pending_invalidations[" + i + "]";
      if (!pf.hasVm(p.getVmId())) {
        throw new CheckpointMismatchException(f + ".vm_id: " + p.getVmId() + " is not a VM of vms");
      }
      CheckpointMismatchException.checkRange(
          f + ".start_hva_page", p.getStartHvaPage(), 0, PageFrames.MAX_HVA_PAGE);
      CheckpointMismatchException.checkRange(
          f + ".end_hva_page",
          p.getEndHvaPage(),
          p.getStartHvaPage() + 1,
          PageFrames.MAX_HVA_PAGE + 1);
      pending.add(new long[] {p.getVmId(), p.getStartHvaPage(), p.getEndHvaPage()});
    }
    pf.notifiers.restore(s.getNotifierEvents(), pending);
    CheckpointMismatchException.checkRange(
        "next_slot_ticket", s.getNextSlotTicket(), 1, Long.MAX_VALUE);
    pf.slotUpdates.restore(s.getNextSlotTicket(), tickets);
    List<String> violations = pf.invariantViolations();
    if (!violations.isEmpty()) {
      throw new CheckpointMismatchException(
          "frame_table, vms.pte_chunks, refs: the frames, host PTEs and accounting disagree ("
              + violations.size()
              + " violations, first: "
              + violations.subList(0, Math.min(5, violations.size()))
              + ")");
    }
    return pf;
  }

  private static HostVm readVm(
      String f, HostVmState vs, int top, long nextTicket, Set<Long> tickets) {
    HostVm v = new HostVm();
    v.notifierSeq = vs.getNotifierSeq();
    int lastChunk = -1;
    long maxChunk = (PageFrames.MAX_HVA_PAGE >>> HostMm.CHUNK_SHIFT);
    for (int i = 0; i < vs.getPteChunksCount(); i++) {
      PteChunkState cs = vs.getPteChunks(i);
      String cf = f + ".pte_chunks[" + i + "]";
      int c =
          (int)
              CheckpointMismatchException.checkRange(
                  cf + ".chunk_index",
                  Integer.toUnsignedLong(cs.getChunkIndex()),
                  lastChunk + 1L,
                  maxChunk);
      lastChunk = c;
      PackedArrays.count(cf + ".ptes", cs.getPtes(), Integer.BYTES, HostMm.CHUNK_PAGES);
      int[] ptes = new int[HostMm.CHUNK_PAGES];
      PackedArrays.readInts(cs.getPtes(), ptes, 0, ptes.length);
      for (int h = 0; h < ptes.length; h++) {
        if (ptes[h] == Integer.MIN_VALUE) {
          throw new CheckpointMismatchException(
              cf
                  + ".ptes["
                  + h
                  + "]: writable but not present (0x80000000); allowed 0 or pfn + 1"
                  + " with bit 31 for writable");
        }
      }
      v.mm.restoreChunk(c, ptes);
    }
    // PTEs pointing at pfns beyond the table, or free ones, are found by the invariant recount.
    if (vs.getProtReadStartPagesCount() != vs.getProtReadEndPagesCount()) {
      throw CheckpointMismatchException.of(
          f + ".prot_read_end_pages count",
          vs.getProtReadEndPagesCount(),
          vs.getProtReadStartPagesCount());
    }
    long[] starts = new long[vs.getProtReadStartPagesCount()];
    long[] ends = new long[starts.length];
    for (int i = 0; i < starts.length; i++) {
      starts[i] =
          CheckpointMismatchException.checkRange(
              f + ".prot_read_start_pages[" + i + "]",
              vs.getProtReadStartPages(i),
              0,
              PageFrames.MAX_HVA_PAGE);
      ends[i] =
          CheckpointMismatchException.checkRange(
              f + ".prot_read_end_pages[" + i + "]",
              vs.getProtReadEndPages(i),
              starts[i] + 1,
              PageFrames.MAX_HVA_PAGE + 1);
    }
    v.mm.restoreProtRead(starts, ends);
    MemSlot[] slots = new MemSlot[vs.getMemslotsCount()];
    for (int i = 0; i < slots.length; i++) {
      slots[i] =
          readSlot(f + ".memslots[" + i + "]", vs.getMemslots(i), i == 0 ? null : slots[i - 1]);
    }
    for (int i = 0; i < slots.length; i++) {
      for (int j = 0; j < i; j++) {
        if (slots[i].id() == slots[j].id()) {
          throw new CheckpointMismatchException(
              f
                  + ".memslots["
                  + i
                  + "].slot_id: "
                  + slots[i].id()
                  + " repeats memslots["
                  + j
                  + "]");
        }
      }
    }
    long gen = vs.getSlotGeneration();
    if (vs.getLeaseGenerationsCount() != vs.getLeaseCountsCount()) {
      throw CheckpointMismatchException.of(
          f + ".lease_counts count", vs.getLeaseCountsCount(), vs.getLeaseGenerationsCount());
    }
    long[] leaseGens = new long[vs.getLeaseGenerationsCount()];
    int[] leaseCounts = new int[leaseGens.length];
    for (int i = 0; i < leaseGens.length; i++) {
      leaseGens[i] =
          CheckpointMismatchException.checkRange(
              f + ".lease_generations[" + i + "]",
              vs.getLeaseGenerations(i),
              i == 0 ? 0 : leaseGens[i - 1] + 1,
              gen);
      leaseCounts[i] =
          (int)
              CheckpointMismatchException.checkRange(
                  f + ".lease_counts[" + i + "]",
                  vs.getLeaseCounts(i),
                  i == 0 ? 1 : 0,
                  Integer.MAX_VALUE);
    }
    if (vs.getPendingTicketsCount() != vs.getPendingGenerationsCount()) {
      throw CheckpointMismatchException.of(
          f + ".pending_generations count",
          vs.getPendingGenerationsCount(),
          vs.getPendingTicketsCount());
    }
    long[] pt = new long[vs.getPendingTicketsCount()];
    long[] pg = new long[pt.length];
    for (int i = 0; i < pt.length; i++) {
      pt[i] =
          CheckpointMismatchException.checkRange(
              f + ".pending_tickets[" + i + "]", vs.getPendingTickets(i), 1, nextTicket - 1);
      if (!tickets.add(pt[i])) {
        throw new CheckpointMismatchException(
            f + ".pending_tickets[" + i + "]: ticket " + pt[i] + " is pending twice");
      }
      pg[i] =
          CheckpointMismatchException.checkRange(
              f + ".pending_generations[" + i + "]",
              vs.getPendingGenerations(i),
              i == 0 ? 1 : pg[i - 1],
              gen);
    }
    v.slots.restore(slots, gen, leaseGens, leaseCounts, pt, pg);
    return v;
  }

  private static MemSlot readSlot(String f, MemSlotState m, MemSlot before) {
    CheckpointMismatchException.checkRange(
        f + ".slot_id", m.getSlotId(), 0, PageFrames.MAX_SLOT_ID);
    CheckpointMismatchException.checkRange(
        f + ".base_gfn", m.getBaseGfn(), before == null ? 0 : before.endGfn(), PageFrames.MAX_GFN);
    CheckpointMismatchException.checkRange(
        f + ".page_count", m.getPageCount(), 1, PageFrames.MAX_GFN + 1 - m.getBaseGfn());
    CheckpointMismatchException.checkRange(
        f + ".hva_page", m.getHvaPage(), 0, PageFrames.MAX_HVA_PAGE);
    CheckpointMismatchException.checkRange(
        f + ".page_count", m.getPageCount(), 1, PageFrames.MAX_HVA_PAGE + 1 - m.getHvaPage());
    return new MemSlot(
        m.getSlotId(), m.getBaseGfn(), m.getPageCount(), m.getHvaPage(), m.getReadOnly());
  }
}
