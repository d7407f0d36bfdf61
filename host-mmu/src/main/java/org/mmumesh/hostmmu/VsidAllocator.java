package org.mmumesh.hostmmu;

/**
 * A per-vCPU source of host VSIDs for new SID maps (spec 5.2). When it is exhausted, {@code
 * create_sid_map} resets it, clears the SID map and flushes every shadow PTE and segment.
 */
public interface VsidAllocator {
  /** True when no host VSID is left until {@link #reset()}. */
  boolean exhausted();

  /** Starts the range again from its first VSID. */
  void reset();

  /**
   * The next host VSID.
   *
   * @throws IllegalStateException when {@link #exhausted()}
   */
  long allocate();

  /** How many VSIDs the range holds from a reset to exhaustion. */
  long capacity();

  /**
   * The 64-bit host allocator: proto-VSIDs {@code ctx << esidBits} up to (not including) {@code
   * ((ctx + 1) << esidBits) - 1}, scrambled (see {@link ScrambledContextVsids}).
   */
  /**
   * The allocator's cursor (checkpoint): the next proto-VSID (64-bit host) or the next pool index
   * (32-bit host).
   */
  long cursor();

  /**
   * Sets the cursor (checkpoint restore).
   *
   * @throws org.mmumesh.checkpoint.CheckpointMismatchException naming the allowed range
   */
  void restoreCursor(long cursor);

  static VsidAllocator host64(int contextId, int esidBits) {
    return new ScrambledContextVsids(contextId, esidBits);
  }

  /** The 32-bit host allocator: a pool of {@code contexts x 16} VSIDs (see {@link VsidPool32}). */
  static VsidAllocator host32(int firstContext, int contexts) {
    return new VsidPool32(firstContext, contexts);
  }
}
