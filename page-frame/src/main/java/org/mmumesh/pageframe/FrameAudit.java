package org.mmumesh.pageframe;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.mmumesh.common.DirtySet;

/**
 * The incremental form of {@link PageFrames#invariantViolations()} ({@code --check-invariants}):
 * the same recount of host PTEs per frame and of the savings counters, kept up to date from the
 * host PTEs and frames that changed since the last check instead of walking every address space and
 * every frame at each check.
 *
 * <h2>How</h2>
 *
 * <p>The audit keeps its own ledger: per pfn, the host PTEs that map it and how many of them are
 * writable, and each frame's last contribution to the totals (in use, KSM frame in use, PTEs
 * mapping a KSM frame). {@link HostMm#set} tells it the old PTE of every host page it overwrites
 * (the first old value since the last check is kept); {@link FrameTable}'s mutators (alloc, free,
 * map count, KSM flag, pins) mark their pfn in a {@link DirtySet}. Both hooks cost one null check
 * when no audit is attached. A check moves each changed PTE in the ledger from its old frame to its
 * new one (marking both), then re-evaluates every marked frame, then compares the totals.
 *
 * <h2>What each check covers</h2>
 *
 * <ul>
 *   <li>At every check, whatever changed: the accounting counters ({@code mappedPtes}, {@code
 *       framesInUse}, {@code zeroPtes}, {@code ksmPtes}, {@code ksmFramesInUse}) against the
 *       recount; a counter corrupted directly is found at once.
 *   <li>For every frame touched since the last check (its PTEs, map count, flags or pins changed):
 *       its map count equals the PTEs mapping it; a free frame has map count 0 and no PTE; a frame
 *       in use is mapped or pinned (no leak); a frame that must be copied on write (KSM, the zero
 *       page, mapped more than once) has no writable PTE. A frame found wrong stays marked, so the
 *       violation is reported at every check until repaired.
 *   <li>Not seen: a frame's map count, flags or a host PTE changed behind these methods (a raw
 *       array write: memory corruption, or a test injecting it) on a frame nothing else touched.
 *       The full {@link PageFrames#invariantViolations()}, which a run calls at its end, finds
 *       those.
 * </ul>
 *
 * <p>Cost: O(PTEs and frames changed) per check, plus one pass over every PTE and frame when
 * attached.
 */
final class FrameAudit {
  private final FrameTable frames;
  private final IntFunction<HostMm> mmOf;
  private final DirtySet dirtyPfns = new DirtySet();

  /** (vm << 32 | hva) -> the PTE before the first change since the last check. */
  private Map<Long, Integer> changedPtes = new HashMap<>();

  private int[] ptes = new int[0];
  private int[] writable = new int[0];
  private int[] ksmPtesOf = new int[0];
  private byte[] counted = new byte[0]; // 1: in use, 2: KSM frame in use

  private long ptesTotal;
  private long inUse;
  private long ksmPtes;
  private long ksmInUse;

  /**
   * Attaches to {@code frames} and to every address space {@code mmOf} gives for VMs {@code 0} to
   * {@code vmSlots - 1} (null: no such VM), marking every present PTE and every frame.
   */
  FrameAudit(FrameTable frames, IntFunction<HostMm> mmOf, int vmSlots) {
    this.frames = frames;
    this.mmOf = mmOf;
    for (int vm = 0; vm < vmSlots; vm++) {
      HostMm mm = mmOf.apply(vm);
      if (mm == null) {
        continue;
      }
      for (long h = mm.nextPresent(0, Long.MAX_VALUE, -1);
          h >= 0;
          h = mm.nextPresent(h + 1, Long.MAX_VALUE, -1)) {
        changedPtes.put(key(vm, h), HostMm.NONE);
      }
      attach(mm, vm);
    }
    for (int pfn = 0; pfn < frames.top(); pfn++) {
      dirtyPfns.add(pfn);
    }
    frames.dirty = dirtyPfns;
  }

  /** Attaches the address space of a VM created after the audit. */
  void attach(HostMm mm, int vm) {
    mm.audit = this;
    mm.vmId = vm;
  }

  private static long key(int vm, long hva) {
    return ((long) vm << 32) | hva;
  }

  /** From {@link HostMm#set}: the PTE of {@code (vm, hva)} is about to change from {@code old}. */
  void pteChanging(int vm, long hva, int old) {
    changedPtes.putIfAbsent(key(vm, hva), old);
  }

  /**
   * Brings the ledger up to date and lists the violations it finds (see the class comment), each
   * changed PTE and re-evaluated frame also given to {@code touched} (if not null). The counters
   * are {@link PageFrames}' ({@code kept}).
   */
  List<String> check(FrameRefs kept, PageFrames.AuditListener touched) {
    if (changedPtes.isEmpty()
        && dirtyPfns.size() == 0
        && ptesTotal == kept.mappedPtes
        && inUse == kept.framesInUse
        && (ptes.length > 0 ? ptes[PageFrames.ZERO_PFN] : 0) == kept.zeroPtes
        && ksmPtes == kept.ksmPtes
        && ksmInUse == kept.ksmFramesInUse) {
      return List.of(); // nothing changed, and the counters agree
    }
    List<String> out = new ArrayList<>();
    if (!changedPtes.isEmpty()) {
      Map<Long, Integer> changed = changedPtes;
      changedPtes = new HashMap<>();
      for (Map.Entry<Long, Integer> e : changed.entrySet()) {
        int vm = (int) (e.getKey() >>> 32);
        long hva = e.getKey() & 0xFFFF_FFFFL;
        HostMm mm = mmOf.apply(vm);
        int now = mm == null ? HostMm.NONE : mm.get(hva);
        int was = e.getValue();
        if (was != now) {
          move(was, -1);
          move(now, +1);
          if (touched != null) {
            touched.pteTouched(vm, hva, was != HostMm.NONE);
          }
        }
      }
    }
    int[] pfns = dirtyPfns.drain();
    for (int pfn : pfns) {
      String bad = reevaluate(pfn);
      if (bad != null) {
        out.add(bad);
        dirtyPfns.add(pfn); // still wrong: checked again next time
      }
      if (touched != null) {
        touched.frameTouched(pfn);
      }
    }
    long zero = ptes.length > 0 ? ptes[PageFrames.ZERO_PFN] : 0;
    kept.accountingViolations(out, ptesTotal, inUse, zero, ksmPtes, ksmInUse);
    return out;
  }

  /** Adds ({@code +1}) or removes ({@code -1}) one present PTE from the ledger. */
  private void move(int pte, int delta) {
    if (pte == HostMm.NONE) {
      return;
    }
    int pfn = HostMm.pfnOf(pte);
    ensure(pfn);
    ptes[pfn] += delta;
    if (HostMm.isWritable(pte)) {
      writable[pfn] += delta;
    }
    ptesTotal += delta;
    dirtyPfns.add(pfn);
  }

  private void ensure(int pfn) {
    if (pfn >= ptes.length) {
      int cap = Math.max(pfn + 1, ptes.length * 2);
      ptes = Arrays.copyOf(ptes, cap);
      writable = Arrays.copyOf(writable, cap);
      ksmPtesOf = Arrays.copyOf(ksmPtesOf, cap);
      counted = Arrays.copyOf(counted, cap);
    }
  }

  /** Re-evaluates frame {@code pfn}'s checks and contributions; a violation's text, or null. */
  private String reevaluate(int pfn) {
    ensure(pfn);
    int n = ptes[pfn];
    boolean free = pfn >= frames.top() || frames.isFree(pfn);
    boolean ksm = !free && frames.isKsm(pfn);
    byte now = (byte) (!free && n > 0 ? (ksm ? 3 : 1) : 0);
    int ksmN = ksm ? n : 0;
    inUse += (now & 1) - (counted[pfn] & 1);
    ksmInUse += ((now & 2) - (counted[pfn] & 2)) / 2;
    ksmPtes += ksmN - ksmPtesOf[pfn];
    counted[pfn] = now;
    ksmPtesOf[pfn] = ksmN;
    if (free) {
      int mc = pfn < frames.top() ? frames.mapCount(pfn) : 0;
      if (mc != 0) {
        return "free pfn " + pfn + " has map count " + mc;
      }
      return n == 0 ? null : "free/unknown pfn " + pfn + " is mapped by " + n + " host PTEs";
    }
    if (n != frames.mapCount(pfn)) {
      return "pfn " + pfn + " map count " + frames.mapCount(pfn) + " but " + n;
    }
    if (n == 0 && pfn != PageFrames.ZERO_PFN && frames.pinCount(pfn) == 0) {
      return "pfn " + pfn + " is allocated but neither mapped nor pinned (leak)";
    }
    if (writable[pfn] > 0 && frames.mustCopyOnWrite(pfn)) {
      return "shared pfn " + pfn + " is mapped writable by " + writable[pfn] + " host PTEs";
    }
    return null;
  }
}
