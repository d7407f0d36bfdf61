package org.mmumesh.pageframe;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntPredicate;
import org.mmumesh.common.Checks;
import org.mmumesh.common.Fingerprint;

/**
 * The host side of guest memory for one simulated host: page frames, each VM's host address space
 * and memslots, {@code gfn_to_pfn_prot}, copy-on-write, MMU notifiers and the page-level operations
 * KSM performs (spec 5.1, 5.7, 7.4, 7.6, 10).
 *
 * <h2>Model</h2>
 *
 * <ul>
 *   <li><b>Frames</b> ({@link FrameTable}): a content fingerprint, a map count, a generation and
 *       flags per pfn. Pfn {@value #ZERO_PFN} is the shared zero page.
 *   <li><b>Host address spaces</b> ({@link HostMm}): one per VM, a host PTE per host virtual page
 *       (not present / present read-only / present writable, pointing at a pfn). Host addresses are
 *       page numbers. Everything is anonymous memory; never-touched pages are not present.
 *   <li><b>Memslots</b> ({@link Memslots}): gfn ranges mapped onto hva ranges, with generations and
 *       read leases (the SRCU read side, spec 8.8 TV61).
 * </ul>
 *
 * <p><b>Faults</b> follow the table in spec 5.1 row by row; see {@link #gfnToPfnProt}. <b>MMU
 * notifiers</b> (spec 5.7): every change of a <em>present</em> host PTE (COW break, zero page to
 * private, KSM write-protect, KSM replace, unmap, mprotect, memslot removal or move) bumps the VM's
 * notifier sequence number and reports the affected gfn range, through the memslots, to every
 * {@link MmuNotifierListener}. Installing a PTE where none was present is not an invalidation.
 *
 * <p><b>Savings accounting</b> (spec 10): a <em>guest page</em> is a present host PTE of a VM's
 * address space (QEMU's guest RAM). {@link #framesSaved()} = present host PTEs minus distinct
 * frames they point at (counting the zero page once if any PTE maps it); {@link
 * #framesSavedExcludingZeroPage()} leaves out the PTEs that map the zero page and the zero page
 * itself; {@link #framesSavedByKsm()} counts only PTEs mapping KSM frames minus the KSM frames in
 * use. All three are kept incrementally and read in O(1); {@link #checkInvariants()} recounts them.
 *
 * <p>Bad arguments (out-of-range ids, gfns, offsets) throw {@link IllegalArgumentException} before
 * any state changes; calls that would break the model (a store without a writable host PTE) throw
 * {@link IllegalStateException}: that is a bug in the caller. Single-threaded: one engine or one
 * actor drives an instance.
 */
public final class PageFrames {
  /** The shared zero page's pfn. */
  public static final int ZERO_PFN = FrameTable.ZERO_PFN;

  /** Largest VM id. */
  public static final int MAX_VM = 65535;

  /** Largest memslot id (a modelling bound; later kernels allow 512 slots per address space). */
  public static final int MAX_SLOT_ID = 511;

  /** Largest guest frame number: 64-bit real addresses with 4 KiB pages. */
  public static final long MAX_GFN = (1L << 52) - 1;

  /** Largest host virtual page number (a host address space holds at most 2^31 - 9 pages). */
  public static final long MAX_HVA_PAGE = Integer.MAX_VALUE - 9L;

  /** Largest byte offset inside a page. */
  public static final int MAX_OFFSET = Fingerprint.PAGE_BYTES - 1;

  private static final class Vm {
    final HostMm mm = new HostMm();
    final Memslots slots = new Memslots();
    long notifierSeq;
  }

  private final FrameTable frames;
  private Vm[] vms = new Vm[4];
  private final List<MmuNotifierListener> notifierListeners = new ArrayList<>();
  private final List<SlotUpdateListener> slotListeners = new ArrayList<>();
  private FrameEventListener frameEvents;
  private final Set<Long> pendingTickets = new HashSet<>();
  private long nextTicket = 1;

  // Invalidation tracking for the KSM merge handshake (null: off, as in the sequential engine).
  private IntPredicate trackedVms;
  private final List<long[]> pendingInvalidations = new ArrayList<>();

  // Accounting (spec 10), maintained on every PTE install/remove.
  private long mappedPtes;
  private long framesInUse;
  private long zeroPtes;
  private long ksmPtes;
  private long ksmFramesInUse;

  // The incremental invariant check, attached by the first invariantViolationsIncremental().
  private FrameAudit audit;

  // Fault statistics.
  private long cowBreaks;
  private long cowKsm;
  private long zeroPageCow;
  private long zeroPageMaps;
  private long freshAllocations;
  private long notifierEvents;

  /** A host with a small initial frame capacity (the frame table grows as needed). */
  public PageFrames() {
    this(1024);
  }

  /**
   * A host whose frame table starts with room for {@code initialFrames} frames (at most one chunk
   * of {@value FrameTable#CHUNK} is allocated up front; more chunks come as frames are allocated).
   *
   * @param initialFrames initial capacity, 1 to 2^31 - 2
   */
  public PageFrames(int initialFrames) {
    Checks.inRange("initialFrames", initialFrames, 1, FrameTable.MAX_PFN);
    this.frames = new FrameTable(initialFrames);
  }

  // ---------------------------------------------------------------- VMs, listeners

  /** Creates VM {@code vm} with an empty address space and no memslots. */
  public void createVm(int vm) {
    Checks.inRange("vm", vm, 0, MAX_VM);
    if (vm < vms.length && vms[vm] != null) {
      throw new IllegalArgumentException("vm: " + vm + " already exists");
    }
    if (vm >= vms.length) {
      vms = Arrays.copyOf(vms, Math.max(vm + 1, vms.length * 2));
    }
    vms[vm] = new Vm();
    if (audit != null) {
      audit.attach(vms[vm].mm, vm);
    }
  }

  /** True if VM {@code vm} exists. */
  public boolean hasVm(int vm) {
    return vm >= 0 && vm < vms.length && vms[vm] != null;
  }

  private Vm vm(int vm) {
    if (!hasVm(vm)) {
      Checks.inRange("vm", vm, 0, MAX_VM);
      throw new IllegalArgumentException("vm: " + vm + " does not exist; create it first");
    }
    return vms[vm];
  }

  /** Registers an MMU-notifier listener (spec 5.7). */
  public void addNotifierListener(MmuNotifierListener listener) {
    notifierListeners.add(listener);
  }

  /** Sets the listener told of COW breaks and KSM merges (the event feed); null: none. */
  public void setFrameEventListener(FrameEventListener listener) {
    frameEvents = listener;
  }

  /** Registers a listener told when memslot updates complete (spec 8.8 TV61). */
  public void addSlotUpdateListener(SlotUpdateListener listener) {
    slotListeners.add(listener);
  }

  /**
   * Turns on tracking of host-page invalidations whose acknowledgements are outstanding (the KSM
   * merge handshake, architecture section 4): from now on every invalidation of a host-page range
   * of a VM for which {@code needsAck} is true (the actor: the VM has notifier subscribers) is
   * recorded as pending until {@link #completeInvalidations()} (the actor: its notifier round was
   * acknowledged). {@code null} turns tracking off and forgets what is pending. Memslot
   * invalidations (gfn ranges) are not tracked. Off by default: the sequential engine's notifier
   * listeners run synchronously, so nothing is ever outstanding there.
   */
  public void trackInvalidations(IntPredicate needsAck) {
    trackedVms = needsAck;
    pendingInvalidations.clear();
  }

  /**
   * True if an invalidation covering host page {@code hvaPage} of {@code vm} was recorded (see
   * {@link #trackInvalidations}) and is not yet completed: a host may still hold a mapping of the
   * old PTE, writable perhaps, until it acknowledges.
   */
  public boolean invalidationPending(int vm, long hvaPage) {
    for (int i = pendingInvalidations.size() - 1; i >= 0; i--) {
      long[] e = pendingInvalidations.get(i);
      if (e[0] == vm && e[1] <= hvaPage && hvaPage < e[2]) {
        return true;
      }
    }
    return false;
  }

  /** Every recorded invalidation was acknowledged: nothing is pending any more. */
  public void completeInvalidations() {
    pendingInvalidations.clear();
  }

  /** Invalidations recorded and not yet completed (ranges, not pages). */
  public int pendingInvalidations() {
    return pendingInvalidations.size();
  }

  /** The VM's MMU-notifier sequence number: bumped by every invalidation (spec 5.7). */
  public long notifierSeq(int vm) {
    return vm(vm).notifierSeq;
  }

  // ---------------------------------------------------------------- memslots and leases

  /**
   * Adds a memslot (KVM_SET_USER_MEMORY_REGION, create). The new array is visible at once.
   *
   * @return a ticket that completes when older read leases are gone (see {@link #isComplete})
   * @throws IllegalArgumentException on bad ranges, a duplicate id, or a gfn overlap with another
   *     slot (the message names that slot and its range); nothing changes then
   */
  public long addSlot(
      int vm, int slotId, long baseGfn, long npages, long hvaPage, boolean readOnly) {
    Vm v = vm(vm);
    checkSlotArgs(slotId, baseGfn, npages, hvaPage);
    if (v.slots.byId(slotId) != null) {
      throw new IllegalArgumentException("slotId: " + slotId + " already exists in vm " + vm);
    }
    rejectOverlap(v, vm, slotId, baseGfn, npages);
    MemSlot slot = new MemSlot(slotId, baseGfn, npages, hvaPage, readOnly);
    v.slots.publish(-1, slot);
    return newTicket(vm, v);
  }

  /**
   * Begins removing memslot {@code slotId}: the new array (without it) is published at once, the
   * slot's guest range is invalidated through the MMU notifiers, and the returned ticket completes
   * once every lease taken on an older generation is released ({@code synchronize_srcu}, TV61). The
   * host memory behind the slot stays mapped in the VM's address space (QEMU keeps it).
   */
  public long beginRemoveSlot(int vm, int slotId) {
    Vm v = vm(vm);
    Checks.inRange("slotId", slotId, 0, MAX_SLOT_ID);
    MemSlot old = v.slots.byId(slotId);
    if (old == null) {
      throw new IllegalArgumentException("slotId: " + slotId + " does not exist in vm " + vm);
    }
    v.slots.publish(slotId, null);
    invalidateGfns(vm, v, old.baseGfn(), old.endGfn());
    return newTicket(vm, v);
  }

  /**
   * Begins moving memslot {@code slotId} to guest frame {@code newBaseGfn} (same host pages): two
   * phases as {@link #beginRemoveSlot}; the old gfn range is invalidated.
   */
  public long beginMoveSlot(int vm, int slotId, long newBaseGfn) {
    Vm v = vm(vm);
    Checks.inRange("slotId", slotId, 0, MAX_SLOT_ID);
    MemSlot old = v.slots.byId(slotId);
    if (old == null) {
      throw new IllegalArgumentException("slotId: " + slotId + " does not exist in vm " + vm);
    }
    checkSlotArgs(slotId, newBaseGfn, old.npages(), old.hvaPage());
    rejectOverlap(v, vm, slotId, newBaseGfn, old.npages());
    v.slots.publish(
        slotId, new MemSlot(slotId, newBaseGfn, old.npages(), old.hvaPage(), old.readOnly()));
    invalidateGfns(vm, v, old.baseGfn(), old.endGfn());
    return newTicket(vm, v);
  }

  private static void checkSlotArgs(int slotId, long baseGfn, long npages, long hvaPage) {
    Checks.inRange("slotId", slotId, 0, MAX_SLOT_ID);
    Checks.inRange("baseGfn", baseGfn, 0, MAX_GFN);
    Checks.inRange("npages", npages, 1, MAX_GFN + 1 - baseGfn);
    Checks.inRange("hvaPage", hvaPage, 0, MAX_HVA_PAGE);
    Checks.inRange("npages", npages, 1, MAX_HVA_PAGE + 1 - hvaPage);
  }

  private static void rejectOverlap(Vm v, int vm, int slotId, long baseGfn, long npages) {
    MemSlot clash = v.slots.overlapping(baseGfn, npages, slotId);
    if (clash != null) {
      throw new IllegalArgumentException(
          String.format(
              "memslot %d (gfn 0x%x-0x%x) overlaps memslot %d (gfn 0x%x-0x%x) in vm %d",
              slotId,
              baseGfn,
              baseGfn + npages - 1,
              clash.id(),
              clash.baseGfn(),
              clash.endGfn() - 1,
              vm));
    }
  }

  private long newTicket(int vm, Vm v) {
    long ticket = nextTicket++;
    v.slots.addPending(ticket, v.slots.generation());
    pendingTickets.add(ticket);
    completeTickets(vm, v);
    return ticket;
  }

  private void completeTickets(int vm, Vm v) {
    for (long t : v.slots.takeCompleted()) {
      pendingTickets.remove(t);
      for (SlotUpdateListener l : slotListeners) {
        l.slotUpdateCompleted(vm, t);
      }
    }
  }

  /** True once the memslot update named by {@code ticket} has completed. */
  public boolean isComplete(long ticket) {
    Checks.inRange("ticket", ticket, 1, nextTicket - 1);
    return !pendingTickets.contains(ticket);
  }

  /** The current memslot generation of {@code vm} (bumped by every add/remove/move). */
  public long slotGeneration(int vm) {
    return vm(vm).slots.generation();
  }

  /** The VM's memslots, sorted by base gfn (a copy). */
  public List<MemSlot> slots(int vm) {
    return List.of(vm(vm).slots.slots());
  }

  /** The memslot containing {@code gfn}, or null. */
  public MemSlot slotOf(int vm, long gfn) {
    return vm(vm).slots.lookup(gfn);
  }

  /**
   * Enters a read-side section ({@code srcu_read_lock}).
   *
   * @return the lease token (the generation it was taken on)
   */
  public long leaseAcquire(int vm) {
    return vm(vm).slots.leaseAcquire();
  }

  /**
   * Leaves a read-side section. Releasing the last lease older than a pending update completes that
   * update (its listeners are called from here).
   *
   * @throws IllegalArgumentException if no lease {@code lease} is held
   */
  public void leaseRelease(int vm, long lease) {
    Vm v = vm(vm);
    if (!v.slots.isHeld(lease)) {
      throw new IllegalArgumentException("lease: " + lease + " is not held on vm " + vm);
    }
    v.slots.leaseRelease(lease);
    completeTickets(vm, v);
  }

  /** Number of read leases currently held on {@code vm}. */
  public int leasesHeld(int vm) {
    return vm(vm).slots.leasesHeld();
  }

  // ---------------------------------------------------------------- gfn -> pfn (spec 5.1)

  /**
   * {@code gfn_to_pfn_prot} (spec 5.1), every row of its host-page table:
   *
   * <ul>
   *   <li>no slot: NOSLOT (MMIO); read-only slot and {@code writeFault}: RO_FAULT.
   *   <li>write fault: PROT_READ region: FAULT; never touched: new zeroed private frame; present
   *       writable: that frame; present read-only and shared (KSM page, zero page, COW-shared):
   *       copy-on-write break to a new private frame (notifier event); present read-only and
   *       exclusive: made writable in place. Always {@code writable=true}.
   *   <li>read fault: never touched: the shared zero page, {@code writable=false}; present: its
   *       frame, {@code writable} = host PTE writable (the fast-GUP write probe) and the slot not
   *       read-only. A KSM or COW-shared page therefore maps read-only and stays shared.
   * </ul>
   *
   * Whether to pass {@code writeFault=true} always (the pre-commit behaviour, spec 1.2) is the
   * caller's choice. The magic page is the caller's concern.
   */
  public PfnResult gfnToPfnProt(int vm, long gfn, boolean writeFault) {
    Vm v = vm(vm);
    Checks.inRange("gfn", gfn, 0, MAX_GFN);
    long seq = v.notifierSeq;
    MemSlot slot = v.slots.lookup(gfn);
    if (slot == null) {
      return PfnResult.error(PfnStatus.NOSLOT, seq);
    }
    if (slot.readOnly() && writeFault) {
      return PfnResult.error(PfnStatus.RO_FAULT, seq);
    }
    long hva = slot.hvaOf(gfn);
    if (writeFault) {
      if (v.mm.isProtRead(hva)) {
        return PfnResult.error(PfnStatus.FAULT, seq);
      }
      long breaksBefore = cowBreaks;
      int pfn = handleWriteFault(vm, v, hva);
      return new PfnResult(PfnStatus.OK, pfn, true, seq, cowBreaks != breaksBefore);
    }
    int pte = v.mm.get(hva);
    if (pte == HostMm.NONE) {
      installPte(v, hva, ZERO_PFN, false);
      zeroPageMaps++;
      return new PfnResult(PfnStatus.OK, ZERO_PFN, false, seq);
    }
    boolean writable = HostMm.isWritable(pte) && !slot.readOnly();
    return new PfnResult(PfnStatus.OK, HostMm.pfnOf(pte), writable, seq);
  }

  /** The host's write-fault path (handle_mm_fault with FAULT_FLAG_WRITE, do_wp_page). */
  private int handleWriteFault(int vmId, Vm v, long hva) {
    int pte = v.mm.get(hva);
    if (pte == HostMm.NONE) {
      int pfn = frames.alloc(Fingerprint.ZERO);
      installPte(v, hva, pfn, true);
      freshAllocations++;
      return pfn;
    }
    int pfn = HostMm.pfnOf(pte);
    if (HostMm.isWritable(pte)) {
      return pfn;
    }
    if (frames.mustCopyOnWrite(pfn)) {
      return copyOnWrite(vmId, v, hva, pfn);
    }
    v.mm.set(hva, HostMm.encode(pfn, true)); // exclusive: reuse in place, no invalidation
    return pfn;
  }

  private int copyOnWrite(int vmId, Vm v, long hva, int oldPfn) {
    cowBreaks++;
    if (frames.isKsm(oldPfn)) {
      cowKsm++;
    } else if (frames.isZero(oldPfn)) {
      zeroPageCow++;
    }
    boolean ksm = frames.isKsm(oldPfn);
    int copy = frames.alloc(frames.fingerprint(oldPfn));
    removePte(v, hva);
    installPte(v, hva, copy, true);
    invalidateHva(vmId, v, hva, hva + 1);
    if (frameEvents != null) {
      for (MemSlot s : v.slots.slots()) {
        if (hva >= s.hvaPage() && hva < s.hvaPage() + s.npages()) {
          frameEvents.cowBreak(vmId, s.baseGfn() + (hva - s.hvaPage()), oldPfn, copy, ksm);
        }
      }
    }
    return copy;
  }

  // ---------------------------------------------------------------- contents

  /**
   * A guest load of the word at byte {@code offset} of {@code gfn}: {@link Fingerprint#loadWord} of
   * the frame behind it (zero-page content if not present). Host side: no fault is taken.
   */
  public long load(int vm, long gfn, int offset) {
    Vm v = vm(vm);
    Checks.inRange("offset", offset, 0, MAX_OFFSET);
    long hva = hvaOrThrow(vm, v, gfn);
    int pte = v.mm.get(hva);
    long content = pte == HostMm.NONE ? Fingerprint.ZERO : frames.fingerprint(HostMm.pfnOf(pte));
    return Fingerprint.loadWord(content, offset);
  }

  /**
   * A guest store of {@code value} at byte {@code offset} of {@code gfn}. Requires a present,
   * writable host PTE on a writable slot (a mapper must have faulted it in for write).
   *
   * @throws IllegalStateException if the host PTE is missing or read-only
   */
  public void store(int vm, long gfn, int offset, long value) {
    Vm v = vm(vm);
    Checks.inRange("offset", offset, 0, MAX_OFFSET);
    MemSlot slot = slotOrThrow(vm, v, gfn);
    int pte = v.mm.get(slot.hvaOf(gfn));
    if (slot.readOnly() || !HostMm.isWritable(pte)) {
      throw new IllegalStateException(
          String.format(
              "store to vm %d gfn 0x%x without a writable host PTE (%s): caller bug",
              vm, gfn, slot.readOnly() ? "read-only slot" : describe(pte)));
    }
    int pfn = HostMm.pfnOf(pte);
    frames.setFingerprint(pfn, Fingerprint.mix(frames.fingerprint(pfn), offset, value));
  }

  /**
   * A load through a host HPTE: {@link Fingerprint#loadWord} of frame {@code pfn}, the frame the
   * shadow PTE names (the hardware does not look at gfns).
   *
   * @throws IllegalStateException when the frame is free (a stale shadow PTE: an engine bug)
   */
  public long loadFrame(int pfn, int offset) {
    Checks.inRange("offset", offset, 0, MAX_OFFSET);
    if (!frames.isLive(pfn)) {
      throw new IllegalStateException("load through a stale mapping: pfn " + pfn + " is free");
    }
    return Fingerprint.loadWord(frames.fingerprint(pfn), offset);
  }

  /**
   * A store through a writable host HPTE: mixes {@code value} into frame {@code pfn}. The frame
   * must be live and exclusive; a writable mapping of a shared frame (KSM page, zero page, map
   * count above 1) would let the store reach other pages' content, which is the isolation invariant
   * (architecture section 5, invariant 1).
   *
   * @throws IllegalStateException when the frame is free or shared
   */
  public void storeFrame(int pfn, int offset, long value) {
    Checks.inRange("offset", offset, 0, MAX_OFFSET);
    if (!frames.isLive(pfn)
        || frames.isZero(pfn)
        || frames.isKsm(pfn)
        || frames.mapCount(pfn) != 1) {
      throw new IllegalStateException(
          "isolation violated: store through a writable mapping of pfn "
              + pfn
              + " which is "
              + (!frames.isLive(pfn)
                  ? "free"
                  : "shared (ksm="
                      + frames.isKsm(pfn)
                      + ", zero="
                      + frames.isZero(pfn)
                      + ", maps="
                      + frames.mapCount(pfn)
                      + ")"));
    }
    frames.setFingerprint(pfn, Fingerprint.mix(frames.fingerprint(pfn), offset, value));
  }

  /**
   * Host-side initialisation (boot image load): gives {@code gfn} a private, written frame holding
   * {@code fingerprint}. A shared frame is copied first (with its notifier event, counted as a COW
   * break); in a PROT_READ region the PTE is installed read-only.
   *
   * @throws IllegalArgumentException if no memslot covers {@code gfn}
   */
  public void populate(int vm, long gfn, long fingerprint) {
    Vm v = vm(vm);
    long hva = hvaOrThrow(vm, v, gfn);
    boolean protRead = v.mm.isProtRead(hva);
    int pte = v.mm.get(hva);
    int pfn;
    if (pte == HostMm.NONE) {
      pfn = frames.alloc(fingerprint);
      installPte(v, hva, pfn, !protRead);
      return;
    }
    pfn = HostMm.pfnOf(pte);
    if (frames.mustCopyOnWrite(pfn)) {
      pfn = copyOnWrite(vm, v, hva, pfn);
      if (protRead) {
        v.mm.set(hva, HostMm.encode(pfn, false));
      }
    } else if (!protRead) {
      v.mm.set(hva, HostMm.encode(pfn, true));
    }
    frames.setFingerprint(pfn, fingerprint);
  }

  private MemSlot slotOrThrow(int vmId, Vm v, long gfn) {
    Checks.inRange("gfn", gfn, 0, MAX_GFN);
    MemSlot slot = v.slots.lookup(gfn);
    if (slot == null) {
      throw new IllegalArgumentException(
          String.format("gfn: 0x%x is not in any memslot of vm %d", gfn, vmId));
    }
    return slot;
  }

  private long hvaOrThrow(int vmId, Vm v, long gfn) {
    return slotOrThrow(vmId, v, gfn).hvaOf(gfn);
  }

  private static String describe(int pte) {
    return pte == HostMm.NONE ? "not present" : "read-only pfn " + HostMm.pfnOf(pte);
  }

  // ---------------------------------------------------------------- host MM operations

  /**
   * Marks host pages {@code [hvaPage, hvaPage + pages)} PROT_READ (mprotect): writable PTEs there
   * become read-only (one notifier event) and later write faults return FAULT (spec 5.1).
   */
  public void protectReadOnly(int vm, long hvaPage, long pages) {
    Vm v = vm(vm);
    checkHvaRange(hvaPage, pages);
    v.mm.addProtRead(hvaPage, hvaPage + pages);
    boolean changed = false;
    long end = hvaPage + pages;
    for (long h = v.mm.nextPresent(hvaPage, end, -1);
        h >= 0;
        h = v.mm.nextPresent(h + 1, end, -1)) {
      int pte = v.mm.get(h);
      if (HostMm.isWritable(pte)) {
        v.mm.set(h, HostMm.encode(HostMm.pfnOf(pte), false));
        changed = true;
      }
    }
    if (changed) {
      invalidateHva(vm, v, hvaPage, hvaPage + pages);
    }
  }

  /**
   * Unmaps host pages {@code [hvaPage, hvaPage + pages)} (MADV_DONTNEED, balloon): the PTEs go
   * away, frames whose last mapping this was are freed, one notifier event if anything changed.
   */
  public void zapPages(int vm, long hvaPage, long pages) {
    Vm v = vm(vm);
    checkHvaRange(hvaPage, pages);
    boolean changed = false;
    long end = hvaPage + pages;
    for (long h = v.mm.nextPresent(hvaPage, end, -1);
        h >= 0;
        h = v.mm.nextPresent(h + 1, end, -1)) {
      removePte(v, h);
      changed = true;
    }
    if (changed) {
      invalidateHva(vm, v, hvaPage, hvaPage + pages);
    }
  }

  /**
   * Makes guest page {@code dstGfn} of {@code dstVm} share the frame behind {@code srcGfn} of
   * {@code srcVm} copy-on-write, as after fork (spec 5.1 "COW-shared" row). The source is faulted
   * in if needed; both PTEs end read-only; notifier events for every present PTE that changed.
   */
  public void cowShare(int srcVm, long srcGfn, int dstVm, long dstGfn) {
    Vm s = vm(srcVm);
    Vm d = vm(dstVm);
    long srcHva = hvaOrThrow(srcVm, s, srcGfn);
    long dstHva = hvaOrThrow(dstVm, d, dstGfn);
    if (s == d && srcHva == dstHva) {
      throw new IllegalArgumentException("dstGfn: must not name the same host page as srcGfn");
    }
    int pte = s.mm.get(srcHva);
    if (pte == HostMm.NONE) {
      installPte(s, srcHva, frames.alloc(Fingerprint.ZERO), false);
      pte = s.mm.get(srcHva);
    } else if (HostMm.isWritable(pte)) {
      s.mm.set(srcHva, HostMm.encode(HostMm.pfnOf(pte), false));
      invalidateHva(srcVm, s, srcHva, srcHva + 1);
    }
    int pfn = HostMm.pfnOf(pte);
    if (d.mm.get(dstHva) != HostMm.NONE) {
      removePte(d, dstHva);
      installPte(d, dstHva, pfn, false);
      invalidateHva(dstVm, d, dstHva, dstHva + 1);
    } else {
      installPte(d, dstHva, pfn, false);
    }
  }

  private static void checkHvaRange(long hvaPage, long pages) {
    Checks.inRange("hvaPage", hvaPage, 0, MAX_HVA_PAGE);
    Checks.inRange("pages", pages, 1, MAX_HVA_PAGE + 1 - hvaPage);
  }

  // ---------------------------------------------------------------- KSM-facing API (spec 7.4)

  /**
   * The first host page at or after {@code hvaFrom} and before {@code hvaEnd} whose PTE maps an
   * anonymous page (present, not the zero page: KSM's {@code follow_page} + {@code PageAnon}), or
   * -1 if none. Pages are visited in address order.
   */
  public long nextAnonPage(int vm, long hvaFrom, long hvaEnd) {
    return vm(vm).mm.nextPresent(hvaFrom, hvaEnd, ZERO_PFN);
  }

  /** The pfn the host PTE of {@code hvaPage} maps, or -1 if not present. */
  public int ptePfn(int vm, long hvaPage) {
    int pte = vm(vm).mm.get(hvaPage);
    return pte == HostMm.NONE ? -1 : HostMm.pfnOf(pte);
  }

  /** True if the host PTE of {@code hvaPage} is present and writable. */
  public boolean pteWritable(int vm, long hvaPage) {
    return HostMm.isWritable(vm(vm).mm.get(hvaPage));
  }

  /** The content fingerprint of frame {@code pfn}. */
  public long frameFingerprint(int pfn) {
    checkLivePfn(pfn);
    return frames.fingerprint(pfn);
  }

  /** True if {@code pfn} is a live KSM page. */
  public boolean isKsmPage(int pfn) {
    return frames.isLive(pfn) && frames.isKsm(pfn);
  }

  /** True if {@code pfn} is the shared zero page. */
  public boolean isZeroPage(int pfn) {
    return pfn == ZERO_PFN;
  }

  /** True if {@code pfn} names an allocated (not free) frame. */
  public boolean isLiveFrame(int pfn) {
    return frames.isLive(pfn);
  }

  /**
   * The frame's generation: bumped every time the frame is freed. A KSM stable node records it with
   * its kpfn; a mismatch (or the frame no longer being KSM) means the node is stale (spec 7.6).
   */
  public int frameGeneration(int pfn) {
    Checks.inRange("pfn", pfn, 0, frames.top() - 1L);
    return frames.generation(pfn);
  }

  /** Number of host PTEs mapping {@code pfn}. */
  public int frameMapCount(int pfn) {
    checkLivePfn(pfn);
    return frames.mapCount(pfn);
  }

  /** Takes an extra reference on {@code pfn} (GUP pin / O_DIRECT): KSM cannot write-protect it. */
  public void pinFrame(int pfn) {
    checkLivePfn(pfn);
    frames.pin(pfn);
  }

  /** Drops a pin; frees the frame if nothing maps or pins it any more. */
  public void unpinFrame(int pfn) {
    checkLivePfn(pfn);
    if (frames.pinCount(pfn) == 0) {
      throw new IllegalArgumentException("pfn: " + pfn + " is not pinned");
    }
    if (frames.unpin(pfn) == 0 && frames.mapCount(pfn) == 0 && pfn != ZERO_PFN) {
      freeFrame(pfn);
    }
  }

  /** Number of pins on {@code pfn}. */
  public int pinCount(int pfn) {
    checkLivePfn(pfn);
    return frames.pinCount(pfn);
  }

  /**
   * {@code write_protect_page} (spec 7.4 step 1). Fails (returns false, nothing changed) unless the
   * PTE of {@code hvaPage} still maps {@code expectedPfn}; if the PTE is writable and the frame has
   * an extra reference (a pin) it also fails, otherwise the PTE becomes read-only with a notifier
   * event. An already read-only PTE succeeds without an event.
   */
  public boolean writeProtectPage(int vm, long hvaPage, int expectedPfn) {
    Vm v = vm(vm);
    int pte = v.mm.get(hvaPage);
    if (pte == HostMm.NONE || HostMm.pfnOf(pte) != expectedPfn) {
      return false;
    }
    if (!HostMm.isWritable(pte)) {
      return true;
    }
    if (frames.pinCount(expectedPfn) > 0) {
      return false; // mapcount + 1 != page_count: restore the PTE and fail
    }
    v.mm.set(hvaPage, HostMm.encode(expectedPfn, false));
    invalidateHva(vm, v, hvaPage, hvaPage + 1);
    return true;
  }

  /**
   * Makes {@code pfn}, mapped read-only at {@code hvaPage}, a KSM page in place (spec 7.4 step 2
   * with no kpage). No PTE changes, so no notifier event.
   *
   * @throws IllegalStateException if the PTE does not map {@code pfn} read-only, or pfn is the zero
   *     page
   */
  public void makeKsmPage(int vm, long hvaPage, int pfn) {
    Vm v = vm(vm);
    int pte = v.mm.get(hvaPage);
    if (pte == HostMm.NONE || HostMm.pfnOf(pte) != pfn || HostMm.isWritable(pte)) {
      throw new IllegalStateException(
          "makeKsmPage: hva page " + hvaPage + " does not map pfn " + pfn + " read-only");
    }
    if (pfn == ZERO_PFN) {
      throw new IllegalStateException("makeKsmPage: the zero page cannot become a KSM page");
    }
    if (!frames.isKsm(pfn)) {
      frames.setKsm(pfn);
      int maps = frames.mapCount(pfn);
      ksmPtes += maps;
      if (maps > 0) {
        ksmFramesInUse++;
      }
    }
  }

  /**
   * {@code replace_page} (spec 7.4 step 2): points the PTE of {@code hvaPage} at KSM page {@code
   * kpfn}, read-only, and drops {@code expectedPfn} (freed if nothing else maps or pins it), with a
   * notifier event. Fails (false, nothing changed) unless the PTE still maps {@code expectedPfn}
   * read-only, {@code kpfn} is a live KSM page and the contents are equal (the full memcmp).
   */
  public boolean replacePage(int vm, long hvaPage, int expectedPfn, int kpfn) {
    Vm v = vm(vm);
    int pte = v.mm.get(hvaPage);
    if (pte == HostMm.NONE || HostMm.pfnOf(pte) != expectedPfn || HostMm.isWritable(pte)) {
      return false;
    }
    if (!isKsmPage(kpfn) || expectedPfn == kpfn) {
      return false;
    }
    if (frames.fingerprint(expectedPfn) != frames.fingerprint(kpfn)) {
      return false;
    }
    installOver(v, hvaPage, kpfn);
    invalidateHva(vm, v, hvaPage, hvaPage + 1);
    if (frameEvents != null) {
      for (MemSlot s : v.slots.slots()) {
        if (hvaPage >= s.hvaPage() && hvaPage < s.hvaPage() + s.npages()) {
          frameEvents.merged(vm, s.baseGfn() + (hvaPage - s.hvaPage()), expectedPfn, kpfn);
        }
      }
    }
    return true;
  }

  /**
   * {@code break_ksm} (run=2, MADV_UNMERGEABLE, break_cow): if {@code hvaPage} maps a KSM page,
   * take a write fault on it (copy-on-write to a new private frame, notifier event, counted in
   * {@link #cowKsm()}).
   *
   * @return true if a KSM page was broken
   */
  public boolean breakKsm(int vm, long hvaPage) {
    Vm v = vm(vm);
    int pte = v.mm.get(hvaPage);
    if (pte == HostMm.NONE || !frames.isKsm(HostMm.pfnOf(pte))) {
      return false;
    }
    copyOnWrite(vm, v, hvaPage, HostMm.pfnOf(pte));
    return true;
  }

  private void checkLivePfn(int pfn) {
    Checks.inRange("pfn", pfn, 0, frames.top() - 1L);
    if (!frames.isLive(pfn)) {
      throw new IllegalArgumentException("pfn: " + pfn + " is a free frame");
    }
  }

  // ---------------------------------------------------------------- PTE bookkeeping

  private void installPte(Vm v, long hva, int pfn, boolean writable) {
    v.mm.set(hva, HostMm.encode(pfn, writable));
    int maps = frames.incMap(pfn);
    mappedPtes++;
    if (maps == 1) {
      framesInUse++;
    }
    if (pfn == ZERO_PFN) {
      zeroPtes++;
    } else if (frames.isKsm(pfn)) {
      ksmPtes++;
      if (maps == 1) {
        ksmFramesInUse++;
      }
    }
  }

  /** Points a present PTE at {@code pfn} read-only, dropping the old frame. */
  private void installOver(Vm v, long hva, int pfn) {
    removePte(v, hva);
    installPte(v, hva, pfn, false);
  }

  private void removePte(Vm v, long hva) {
    int pfn = HostMm.pfnOf(v.mm.get(hva));
    v.mm.set(hva, HostMm.NONE);
    int maps = frames.decMap(pfn);
    mappedPtes--;
    if (maps == 0) {
      framesInUse--;
    }
    if (pfn == ZERO_PFN) {
      zeroPtes--;
    } else {
      if (frames.isKsm(pfn)) {
        ksmPtes--;
        if (maps == 0) {
          ksmFramesInUse--;
        }
      }
      if (maps == 0 && frames.pinCount(pfn) == 0) {
        freeFrame(pfn);
      }
    }
  }

  private void freeFrame(int pfn) {
    frames.free(pfn);
  }

  // ---------------------------------------------------------------- notifiers

  private void invalidateHva(int vmId, Vm v, long hvaStart, long hvaEnd) {
    v.notifierSeq++;
    notifierEvents++;
    if (trackedVms != null && trackedVms.test(vmId)) {
      pendingInvalidations.add(new long[] {vmId, hvaStart, hvaEnd});
    }
    if (notifierListeners.isEmpty()) {
      return;
    }
    for (MemSlot s : v.slots.slots()) {
      long lo = Math.max(hvaStart, s.hvaPage());
      long hi = Math.min(hvaEnd, s.hvaPage() + s.npages());
      if (lo < hi) {
        long g0 = s.baseGfn() + (lo - s.hvaPage());
        long g1 = s.baseGfn() + (hi - s.hvaPage());
        for (MmuNotifierListener l : notifierListeners) {
          l.invalidateRange(vmId, g0, g1);
        }
      }
    }
  }

  private void invalidateGfns(int vmId, Vm v, long gfnStart, long gfnEnd) {
    v.notifierSeq++;
    notifierEvents++;
    for (MmuNotifierListener l : notifierListeners) {
      l.invalidateRange(vmId, gfnStart, gfnEnd);
    }
  }

  // ---------------------------------------------------------------- accounting

  /** Guest pages backed by a frame (present host PTEs) minus distinct frames backing them. */
  public long framesSaved() {
    return mappedPtes - framesInUse;
  }

  /** {@link #framesSaved()} leaving out zero-page mappings and the zero page itself. */
  public long framesSavedExcludingZeroPage() {
    return (mappedPtes - zeroPtes) - (framesInUse - (zeroPtes > 0 ? 1 : 0));
  }

  /** PTEs mapping KSM pages minus KSM pages mapped: what KSM merging really saves now. */
  public long framesSavedByKsm() {
    return ksmPtes - ksmFramesInUse;
  }

  /** Present host PTEs over all VMs (guest pages backed by a frame). */
  public long mappedPages() {
    return mappedPtes;
  }

  /** Distinct frames mapped by at least one host PTE (the zero page included if mapped). */
  public long framesInUse() {
    return framesInUse;
  }

  /** Frames allocated (not free), the zero page included; pinned unmapped frames count. */
  public int framesAllocated() {
    return frames.allocated();
  }

  /**
   * Frames the frame table's chunks now have room for (allocated or not): its memory is about 17
   * bytes times this. Chunks of {@value FrameTable#CHUNK} frames are released when their last frame
   * is freed, so this falls when KSM merges a booted host's pages away.
   */
  public long frameCapacity() {
    return frames.capacity();
  }

  /** Host PTEs mapping the zero page. */
  public long zeroPageMappings() {
    return zeroPtes;
  }

  /** Write faults that copied a shared frame (KSM page, zero page, COW-shared frame). */
  public long cowBreaks() {
    return cowBreaks;
  }

  /** COW breaks of KSM pages (the kernel's later {@code cow_ksm} event). */
  public long cowKsm() {
    return cowKsm;
  }

  /** COW breaks of the zero page (zero page to private). */
  public long zeroPageCow() {
    return zeroPageCow;
  }

  /** Read faults on never-touched pages that mapped the shared zero page. */
  public long zeroPageMaps() {
    return zeroPageMaps;
  }

  /** Write faults on never-touched pages that allocated a new zeroed private frame. */
  public long freshAllocations() {
    return freshAllocations;
  }

  /** MMU-notifier invalidations sent so far, all VMs. */
  public long notifierEvents() {
    return notifierEvents;
  }

  // ---------------------------------------------------------------- invariants

  /**
   * Recounts everything and lists what is wrong (empty if the model is consistent): map counts
   * equal the host PTEs pointing at each frame; no PTE points at a free frame; no writable PTE maps
   * a shared frame (KSM, zero page, map count > 1) (architecture invariant 1); the savings counters
   * equal a recount.
   */
  public List<String> invariantViolations() {
    List<String> out = new ArrayList<>();
    int top = frames.top();
    int[] count = new int[top];
    long ptes = 0;
    long zero = 0;
    long ksm = 0;
    for (int vmId = 0; vmId < vms.length; vmId++) {
      Vm v = vms[vmId];
      if (v == null) {
        continue;
      }
      for (long h = v.mm.nextPresent(0, Long.MAX_VALUE, -1);
          h >= 0;
          h = v.mm.nextPresent(h + 1, Long.MAX_VALUE, -1)) {
        int pte = v.mm.get(h);
        int pfn = HostMm.pfnOf(pte);
        if (pfn >= top || frames.isFree(pfn)) {
          out.add("vm " + vmId + " hva " + h + " maps free/unknown pfn " + pfn);
          continue;
        }
        count[pfn]++;
        ptes++;
        if (pfn == ZERO_PFN) {
          zero++;
        } else if (frames.isKsm(pfn)) {
          ksm++;
        }
      }
    }
    long inUse = 0;
    long ksmInUse = 0;
    for (int pfn = 0; pfn < top; pfn++) {
      if (frames.isFree(pfn)) {
        if (frames.mapCount(pfn) != 0) {
          out.add("free pfn " + pfn + " has map count " + frames.mapCount(pfn));
        }
        continue;
      }
      if (count[pfn] != frames.mapCount(pfn)) {
        out.add("pfn " + pfn + " map count " + frames.mapCount(pfn) + " but " + count[pfn]);
      }
      if (count[pfn] > 0) {
        inUse++;
        if (frames.isKsm(pfn)) {
          ksmInUse++;
        }
      } else if (pfn != ZERO_PFN && frames.pinCount(pfn) == 0) {
        out.add("pfn " + pfn + " is allocated but neither mapped nor pinned (leak)");
      }
    }
    for (int vmId = 0; vmId < vms.length; vmId++) {
      Vm v = vms[vmId];
      if (v == null) {
        continue;
      }
      for (long h = v.mm.nextPresent(0, Long.MAX_VALUE, -1);
          h >= 0;
          h = v.mm.nextPresent(h + 1, Long.MAX_VALUE, -1)) {
        int pte = v.mm.get(h);
        if (HostMm.isWritable(pte)) {
          int pfn = HostMm.pfnOf(pte);
          if (pfn < top && !frames.isFree(pfn) && frames.mustCopyOnWrite(pfn)) {
            out.add("vm " + vmId + " hva " + h + " maps shared pfn " + pfn + " writable");
          }
        }
      }
    }
    if (ptes != mappedPtes || inUse != framesInUse || zero != zeroPtes) {
      out.add(
          String.format(
              "accounting: mappedPtes %d/%d framesInUse %d/%d zeroPtes %d/%d (kept/recount)",
              mappedPtes, ptes, framesInUse, inUse, zeroPtes, zero));
    }
    if (ksm != ksmPtes || ksmInUse != ksmFramesInUse) {
      out.add(
          String.format(
              "ksm accounting: ksmPtes %d/%d ksmFramesInUse %d/%d (kept/recount)",
              ksmPtes, ksm, ksmFramesInUse, ksmInUse));
    }
    return out;
  }

  /** What {@link #invariantViolationsIncremental(AuditListener)} re-checked. */
  public interface AuditListener {
    /** Frame {@code pfn}'s PTEs, map count, flags or pins changed since the previous check. */
    void frameTouched(int pfn);

    /**
     * The host PTE of {@code (vm, hvaPage)} changed since the previous check; {@code wasPresent}:
     * it was present before (so the change was an invalidation, spec 5.7), not a first install.
     */
    void pteTouched(int vm, long hvaPage, boolean wasPresent);
  }

  /**
   * {@link #invariantViolations()} kept incrementally ({@code --check-invariants}; {@link
   * FrameAudit} says exactly what each call covers): the accounting counters are compared with a
   * recount at every call, and the per-frame checks run for the frames whose PTEs, map count, flags
   * or pins changed since the previous call (the first call attaches the audit and checks
   * everything). Changes made behind this class's back are left to the full check, which a run
   * makes at its end.
   *
   * @param touched told every frame and host PTE re-checked (for callers that check what maps
   *     them), or null
   */
  public List<String> invariantViolationsIncremental(AuditListener touched) {
    if (audit == null) {
      audit = new FrameAudit(frames, vm -> hasVm(vm) ? vms[vm].mm : null, vms.length);
    }
    return audit.check(mappedPtes, framesInUse, zeroPtes, ksmPtes, ksmFramesInUse, touched);
  }

  /** {@link #invariantViolationsIncremental(AuditListener)} without a listener. */
  public List<String> invariantViolationsIncremental() {
    return invariantViolationsIncremental(null);
  }

  /**
   * Throws if {@link #invariantViolations()} finds anything.
   *
   * @throws IllegalStateException listing the violations
   */
  public void checkInvariants() {
    List<String> v = invariantViolations();
    if (!v.isEmpty()) {
      throw new IllegalStateException("PageFrames invariants violated: " + v);
    }
  }
}
