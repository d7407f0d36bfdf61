package org.mmumesh.pageframe;

import it.unimi.dsi.fastutil.longs.Long2IntOpenHashMap;
import java.util.Objects;
import org.mmumesh.common.Checks;

/**
 * The page references that faults in flight hold on their frames: KVM's {@code gfn_to_pfn_prot}
 * returns its pfn with a reference taken ({@code get_user_pages_fast} / {@code get_page}), and the
 * fault drops it with {@code kvm_release_pfn_clean} / {@code kvm_release_pfn_dirty} once the host
 * HPTE is built ({@code kvmppc_mmu_map_page}'s end, spec 5.1 and 7.4).
 *
 * <p><b>Why it matters: ksmd skips a referenced frame.</b> {@code write_protect_page} in mm/ksm.c
 * (v3.10-v3.13) clears and flushes a writable PTE, then checks the page count:
 *
 * <pre>
 *   if (page_mapcount(page) + 1 + swapped != page_count(page)) {
 *           set_pte_at(mm, addr, ptep, entry);
 *           goto out_unlock;
 *   }
 * </pre>
 *
 * The reference a fault holds makes {@code page_count} one higher than the mappings (plus ksmd's
 * own reference) explain, so the merge attempt fails, the PTE stays writable and ksmd moves on; it
 * retries the page on a later pass. Here a held reference is a pin on the frame ({@link
 * PageFrames#pinFrame}), which {@link PageFrames#writeProtectPage} refuses exactly so (a writable
 * PTE of a pinned frame; a read-only PTE has nothing to protect, as in the kernel). A frame
 * unmapped or copied away while referenced stays allocated until the reference is dropped, as a
 * page with a raised count stays allocated.
 *
 * <p><b>Holders.</b> Each reference is keyed by its holder (the page-frame actor: the memslot lease
 * the same {@code GfnToPfnProt} answer handed out; the sequential engine: its one fault in flight),
 * so dropping it is idempotent per holder and an unknown holder is ignored. The zero page takes no
 * reference: ksmd never merges it.
 *
 * <p><b>Where the reference lasts.</b> The kernel's guest retries its access nanoseconds after the
 * map, far too soon for ksmd to write-protect the page in between; the actor mesh's retry is a
 * round trip of messages later, during which ksmd's wall-clock timer may run. So the mesh's vCPU
 * drops the reference (its lease) only once the retried access has executed, or when its next
 * fault's answer brings a new one, which models that immediacy: the store that caused a COW break
 * lands in its private copy before ksmd can merge the copy back. The sequential engine never runs
 * ksmd inside a fault, so there the reference changes no outcome.
 *
 * <p>Single-threaded, with the {@link PageFrames} it pins.
 */
public final class FaultPageRefs {
  private final PageFrames frames;
  private final Long2IntOpenHashMap held = new Long2IntOpenHashMap();

  /** References on the frames of {@code frames}. */
  public FaultPageRefs(PageFrames frames) {
    this.frames = Objects.requireNonNull(frames, "frames");
    held.defaultReturnValue(-1);
  }

  /**
   * Takes the reference a {@code gfn_to_pfn_prot} answer carries, for {@code holder}: a pin on its
   * frame when it returned one other than the zero page; nothing for an error or the zero page.
   *
   * @throws IllegalArgumentException if {@code holder} already holds a reference
   */
  public void take(long holder, PfnResult result) {
    Objects.requireNonNull(result, "result");
    if (held.containsKey(holder)) {
      throw new IllegalArgumentException("holder: " + holder + " already holds a page reference");
    }
    if (!result.ok() || result.pfn() == PageFrames.ZERO_PFN) {
      return;
    }
    Checks.inRange("pfn", result.pfn(), 0, Integer.MAX_VALUE);
    frames.pinFrame(result.pfn());
    held.put(holder, result.pfn());
  }

  /**
   * Drops {@code holder}'s reference ({@code kvm_release_pfn_clean}); the frame is freed if nothing
   * maps or references it any more. A holder without a reference is ignored.
   *
   * @return the frame released, or -1 if the holder held none
   */
  public int release(long holder) {
    int pfn = held.remove(holder);
    if (pfn >= 0) {
      frames.unpinFrame(pfn);
    }
    return pfn;
  }

  /** The frame {@code holder} references, or -1. */
  public int frameOf(long holder) {
    return held.get(holder);
  }

  /** References held now. */
  public int size() {
    return held.size();
  }

  /** Who holds which frame, by ascending holder (checkpoint; pure). */
  public org.mmumesh.checkpoint.v1.FaultPageRefsState checkpoint() {
    long[] holders = held.keySet().toLongArray();
    java.util.Arrays.sort(holders);
    var b = org.mmumesh.checkpoint.v1.FaultPageRefsState.newBuilder();
    for (long h : holders) {
      b.addHolders(h).addPfns(held.get(h));
    }
    return b.build();
  }

  /**
   * References as in {@code state} over {@code frames}, the restored frames of the same checkpoint:
   * no pin is taken (the frames' pin counts already hold them), but each frame must be live with at
   * least as many pins as holders referencing it.
   *
   * @throws org.mmumesh.checkpoint.CheckpointMismatchException naming the field that disagrees
   */
  public static FaultPageRefs restore(
      org.mmumesh.checkpoint.v1.FaultPageRefsState state, PageFrames frames) {
    FaultPageRefs refs = new FaultPageRefs(frames);
    if (state.getHoldersCount() != state.getPfnsCount()) {
      throw org.mmumesh.checkpoint.CheckpointMismatchException.of(
          "pfns count", state.getPfnsCount(), state.getHoldersCount() + " (holders count)");
    }
    it.unimi.dsi.fastutil.ints.Int2IntOpenHashMap perFrame =
        new it.unimi.dsi.fastutil.ints.Int2IntOpenHashMap();
    for (int i = 0; i < state.getHoldersCount(); i++) {
      int pfn = state.getPfns(i);
      if (pfn <= 0 || !frames.isLiveFrame(pfn)) {
        throw new org.mmumesh.checkpoint.CheckpointMismatchException(
            "pfns[" + i + "]: " + pfn + " is not a live frame other than the zero page");
      }
      if (refs.held.put(state.getHolders(i), pfn) >= 0) {
        throw new org.mmumesh.checkpoint.CheckpointMismatchException(
            "holders[" + i + "]: " + state.getHolders(i) + " repeats");
      }
      int n = perFrame.addTo(pfn, 1) + 1;
      if (n > frames.pinCount(pfn)) {
        throw new org.mmumesh.checkpoint.CheckpointMismatchException(
            "pfns["
                + i
                + "]: frame "
                + pfn
                + " has "
                + frames.pinCount(pfn)
                + " pins, fewer than the "
                + n
                + " holders referencing it");
      }
    }
    return refs;
  }
}
