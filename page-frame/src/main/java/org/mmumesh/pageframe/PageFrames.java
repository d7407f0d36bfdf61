package org.mmumesh.pageframe;

import java.util.Arrays;
import java.util.List;
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
 * <h2>Parts</h2>
 *
 * <p>This class is the one entry point (it resolves VM ids and checks arguments); the work is done
 * by package-private parts, one per concern: {@link HostFaults} (gfn_to_pfn_prot, copy-on-write,
 * the zero page), {@link KsmPageOps} (the page operations KSM performs), {@link FrameRefs} (PTE
 * install/remove with map counts, the savings accounting and its recount), {@link HostNotifiers}
 * (MMU-notifier invalidations, the merge handshake's pending invalidations, the frame event feed)
 * and {@link SlotUpdates} (two-phase memslot updates and their tickets).
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

  // Package-private for PageFramesCheckpoint, which writes and restores them.
  final FrameTable frames;
  HostVm[] vms = new HostVm[4];
  final HostNotifiers notifiers = new HostNotifiers();
  final SlotUpdates slotUpdates = new SlotUpdates(notifiers);
  final FrameRefs refs;
  final HostFaults faults;
  private final KsmPageOps ksmOps;

  // The incremental invariant check, attached by the first invariantViolationsIncremental().
  private FrameAudit audit;

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
    this(
        new FrameTable(
            (int) Checks.inRange("initialFrames", initialFrames, 1, FrameTable.MAX_PFN)));
  }

  /** A host around {@code frames} (a new table, or a restored one). */
  PageFrames(FrameTable frames) {
    this.frames = frames;
    this.refs = new FrameRefs(frames);
    this.faults = new HostFaults(frames, refs, notifiers);
    this.ksmOps = new KsmPageOps(frames, refs, notifiers, faults);
  }

  // ---------------------------------------------------------------- checkpoint

  /**
   * The complete state of this host's frames, address spaces, memslots and counters, for a
   * checkpoint (issue 13; see {@link PageFramesCheckpoint} for what is written and what is wiring).
   * Pure: reads only. Take it at a lockstep barrier (no notifier round in flight); pending
   * invalidations are written all the same.
   */
  public org.mmumesh.checkpoint.v1.PageFramesState checkpoint() {
    return PageFramesCheckpoint.write(this);
  }

  /**
   * A host holding {@code state}, checked first (lengths, ranges, free lists, then map counts and
   * the savings accounting recounted as {@link #invariantViolations()} does). Listeners, the event
   * feed and invalidation tracking are wiring, not state: register them on the returned core as on
   * a new one. The invalidations written as pending are pending again; turning tracking on ({@link
   * #trackInvalidations}) forgets them, as on any core (at a lockstep barrier there are none).
   *
   * @throws org.mmumesh.checkpoint.CheckpointMismatchException naming the inconsistent field and
   *     its allowed range; nothing is returned then
   */
  public static PageFrames restore(org.mmumesh.checkpoint.v1.PageFramesState state) {
    return PageFramesCheckpoint.read(state);
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
    vms[vm] = new HostVm();
    if (audit != null) {
      audit.attach(vms[vm].mm, vm);
    }
  }

  /** True if VM {@code vm} exists. */
  public boolean hasVm(int vm) {
    return vm >= 0 && vm < vms.length && vms[vm] != null;
  }

  private HostVm vm(int vm) {
    if (!hasVm(vm)) {
      Checks.inRange("vm", vm, 0, MAX_VM);
      throw new IllegalArgumentException("vm: " + vm + " does not exist; create it first");
    }
    return vms[vm];
  }

  /** Registers an MMU-notifier listener (spec 5.7). */
  public void addNotifierListener(MmuNotifierListener listener) {
    notifiers.addListener(listener);
  }

  /** Sets the listener told of COW breaks and KSM merges (the event feed); null: none. */
  public void setFrameEventListener(FrameEventListener listener) {
    notifiers.setFrameEventListener(listener);
  }

  /** Registers a listener told when memslot updates complete (spec 8.8 TV61). */
  public void addSlotUpdateListener(SlotUpdateListener listener) {
    slotUpdates.addListener(listener);
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
    notifiers.track(needsAck);
  }

  /**
   * True if an invalidation covering host page {@code hvaPage} of {@code vm} was recorded (see
   * {@link #trackInvalidations}) and is not yet completed: a host may still hold a mapping of the
   * old PTE, writable perhaps, until it acknowledges.
   */
  public boolean invalidationPending(int vm, long hvaPage) {
    return notifiers.pending(vm, hvaPage);
  }

  /** Every recorded invalidation was acknowledged: nothing is pending any more. */
  public void completeInvalidations() {
    notifiers.completeAll();
  }

  /** Invalidations recorded and not yet completed (ranges, not pages). */
  public int pendingInvalidations() {
    return notifiers.pendingCount();
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
    return slotUpdates.addSlot(vm, vm(vm), slotId, baseGfn, npages, hvaPage, readOnly);
  }

  /**
   * Begins removing memslot {@code slotId}: the new array (without it) is published at once, the
   * slot's guest range is invalidated through the MMU notifiers, and the returned ticket completes
   * once every lease taken on an older generation is released ({@code synchronize_srcu}, TV61). The
   * host memory behind the slot stays mapped in the VM's address space (QEMU keeps it).
   */
  public long beginRemoveSlot(int vm, int slotId) {
    return slotUpdates.beginRemoveSlot(vm, vm(vm), slotId);
  }

  /**
   * Begins moving memslot {@code slotId} to guest frame {@code newBaseGfn} (same host pages): two
   * phases as {@link #beginRemoveSlot}; the old gfn range is invalidated.
   */
  public long beginMoveSlot(int vm, int slotId, long newBaseGfn) {
    return slotUpdates.beginMoveSlot(vm, vm(vm), slotId, newBaseGfn);
  }

  /** True once the memslot update named by {@code ticket} has completed. */
  public boolean isComplete(long ticket) {
    return slotUpdates.isComplete(ticket);
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
    slotUpdates.leaseRelease(vm, vm(vm), lease);
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
    return faults.gfnToPfnProt(vm, vm(vm), gfn, writeFault);
  }

  // ---------------------------------------------------------------- contents

  /**
   * A guest load of the word at byte {@code offset} of {@code gfn}: {@link Fingerprint#loadWord} of
   * the frame behind it (zero-page content if not present). Host side: no fault is taken.
   */
  public long load(int vm, long gfn, int offset) {
    HostVm v = vm(vm);
    Checks.inRange("offset", offset, 0, MAX_OFFSET);
    long hva = v.hvaOrThrow(vm, gfn);
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
    HostVm v = vm(vm);
    Checks.inRange("offset", offset, 0, MAX_OFFSET);
    MemSlot slot = v.slotOrThrow(vm, gfn);
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
    faults.populate(vm, vm(vm), gfn, fingerprint);
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
    HostVm v = vm(vm);
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
      notifiers.invalidateHva(vm, v, hvaPage, hvaPage + pages);
    }
  }

  /**
   * Unmaps host pages {@code [hvaPage, hvaPage + pages)} (MADV_DONTNEED, balloon): the PTEs go
   * away, frames whose last mapping this was are freed, one notifier event if anything changed.
   */
  public void zapPages(int vm, long hvaPage, long pages) {
    HostVm v = vm(vm);
    checkHvaRange(hvaPage, pages);
    boolean changed = false;
    long end = hvaPage + pages;
    for (long h = v.mm.nextPresent(hvaPage, end, -1);
        h >= 0;
        h = v.mm.nextPresent(h + 1, end, -1)) {
      refs.remove(v.mm, h);
      changed = true;
    }
    if (changed) {
      notifiers.invalidateHva(vm, v, hvaPage, hvaPage + pages);
    }
  }

  /**
   * Makes guest page {@code dstGfn} of {@code dstVm} share the frame behind {@code srcGfn} of
   * {@code srcVm} copy-on-write, as after fork (spec 5.1 "COW-shared" row). The source is faulted
   * in if needed; both PTEs end read-only; notifier events for every present PTE that changed.
   */
  public void cowShare(int srcVm, long srcGfn, int dstVm, long dstGfn) {
    faults.cowShare(srcVm, vm(srcVm), srcGfn, dstVm, vm(dstVm), dstGfn);
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
    return ksmOps.isKsmPage(pfn);
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
    refs.unpin(pfn);
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
    return ksmOps.writeProtectPage(vm, vm(vm), hvaPage, expectedPfn);
  }

  /**
   * Makes {@code pfn}, mapped read-only at {@code hvaPage}, a KSM page in place (spec 7.4 step 2
   * with no kpage). No PTE changes, so no notifier event.
   *
   * @throws IllegalStateException if the PTE does not map {@code pfn} read-only, or pfn is the zero
   *     page
   */
  public void makeKsmPage(int vm, long hvaPage, int pfn) {
    ksmOps.makeKsmPage(vm(vm), hvaPage, pfn);
  }

  /**
   * {@code replace_page} (spec 7.4 step 2): points the PTE of {@code hvaPage} at KSM page {@code
   * kpfn}, read-only, and drops {@code expectedPfn} (freed if nothing else maps or pins it), with a
   * notifier event. Fails (false, nothing changed) unless the PTE still maps {@code expectedPfn}
   * read-only, {@code kpfn} is a live KSM page and the contents are equal (the full memcmp).
   */
  public boolean replacePage(int vm, long hvaPage, int expectedPfn, int kpfn) {
    return ksmOps.replacePage(vm, vm(vm), hvaPage, expectedPfn, kpfn);
  }

  /**
   * {@code break_ksm} (run=2, MADV_UNMERGEABLE, break_cow): if {@code hvaPage} maps a KSM page,
   * take a write fault on it (copy-on-write to a new private frame, notifier event, counted in
   * {@link #cowKsm()}).
   *
   * @return true if a KSM page was broken
   */
  public boolean breakKsm(int vm, long hvaPage) {
    return ksmOps.breakKsm(vm, vm(vm), hvaPage);
  }

  private void checkLivePfn(int pfn) {
    Checks.inRange("pfn", pfn, 0, frames.top() - 1L);
    if (!frames.isLive(pfn)) {
      throw new IllegalArgumentException("pfn: " + pfn + " is a free frame");
    }
  }

  // ---------------------------------------------------------------- accounting

  /** Guest pages backed by a frame (present host PTEs) minus distinct frames backing them. */
  public long framesSaved() {
    return refs.mappedPtes - refs.framesInUse;
  }

  /** {@link #framesSaved()} leaving out zero-page mappings and the zero page itself. */
  public long framesSavedExcludingZeroPage() {
    return (refs.mappedPtes - refs.zeroPtes) - (refs.framesInUse - (refs.zeroPtes > 0 ? 1 : 0));
  }

  /** PTEs mapping KSM pages minus KSM pages mapped: what KSM merging really saves now. */
  public long framesSavedByKsm() {
    return refs.ksmPtes - refs.ksmFramesInUse;
  }

  /** Present host PTEs over all VMs (guest pages backed by a frame). */
  public long mappedPages() {
    return refs.mappedPtes;
  }

  /** Distinct frames mapped by at least one host PTE (the zero page included if mapped). */
  public long framesInUse() {
    return refs.framesInUse;
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
    return refs.zeroPtes;
  }

  /** Write faults that copied a shared frame (KSM page, zero page, COW-shared frame). */
  public long cowBreaks() {
    return faults.cowBreaks;
  }

  /** COW breaks of KSM pages (the kernel's later {@code cow_ksm} event). */
  public long cowKsm() {
    return faults.cowKsm;
  }

  /** COW breaks of the zero page (zero page to private). */
  public long zeroPageCow() {
    return faults.zeroPageCow;
  }

  /** Read faults on never-touched pages that mapped the shared zero page. */
  public long zeroPageMaps() {
    return faults.zeroPageMaps;
  }

  /** Write faults on never-touched pages that allocated a new zeroed private frame. */
  public long freshAllocations() {
    return faults.freshAllocations;
  }

  /** MMU-notifier invalidations sent so far, all VMs. */
  public long notifierEvents() {
    return notifiers.notifierEvents();
  }

  // ---------------------------------------------------------------- invariants

  /**
   * Recounts everything and lists what is wrong (empty if the model is consistent): map counts
   * equal the host PTEs pointing at each frame; no PTE points at a free frame; no writable PTE maps
   * a shared frame (KSM, zero page, map count > 1) (architecture invariant 1); the savings counters
   * equal a recount.
   */
  public List<String> invariantViolations() {
    return refs.invariantViolations(vms);
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
    return audit.check(refs, touched);
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
