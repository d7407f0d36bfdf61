package org.mmumesh.hostmmu;

import org.mmumesh.common.Checks;

/**
 * The 32-bit host's per-vCPU VSID pool (spec 5.2; {@code kvmppc_mmu_init} in {@code
 * book3s_32_mmu_host.c}): {@code SID_CONTEXTS} (128) MMU contexts, 16 VSIDs each, {@code
 * vsid_pool[i*16 + j] = CTX_TO_VSID(ctx_i, j)} with {@code CTX_TO_VSID(c, id) = ((c * (897 * 16)) +
 * (id * 0x111)) & 0xFFFFFF}. VSIDs are handed out in pool order; after the last one the pool is
 * exhausted. Pool VSIDs are distinct for contexts below 2^20.
 */
public final class VsidPool32 implements VsidAllocator {
  /** {@code SID_CONTEXTS}. */
  public static final int SID_CONTEXTS = 128;

  /** Contexts must stay below 2^20 so that CTX_TO_VSID gives distinct VSIDs. */
  public static final int MAX_CONTEXT = (1 << 20) - 1;

  private final long[] pool;
  private int next;

  /**
   * @param firstContext the first of the vCPU's consecutive contexts, 1 or more
   * @param contexts how many contexts (128 in the kernel; tests use fewer)
   */
  public VsidPool32(int firstContext, int contexts) {
    Checks.inRange("contexts", contexts, 1, SID_CONTEXTS);
    Checks.inRange("firstContext", firstContext, 1, (long) MAX_CONTEXT - contexts + 1);
    pool = new long[contexts * 16];
    for (int i = 0; i < contexts; i++) {
      for (int j = 0; j < 16; j++) {
        pool[i * 16 + j] = ctxToVsid(firstContext + i, j);
      }
    }
  }

  /** {@code CTX_TO_VSID(c, id)}. */
  public static long ctxToVsid(long context, int id) {
    return ((context * (897 * 16)) + (id * 0x111L)) & 0xFFFFFFL;
  }

  @Override
  public boolean exhausted() {
    return next >= pool.length;
  }

  @Override
  public void reset() {
    next = 0;
  }

  @Override
  public long allocate() {
    if (next >= pool.length) {
      throw new IllegalStateException("32-bit VSID pool exhausted");
    }
    return pool[next++];
  }

  @Override
  public long cursor() {
    return next;
  }

  @Override
  public void restoreCursor(long cursor) {
    next =
        (int)
            org.mmumesh.checkpoint.CheckpointMismatchException.checkRange(
                "allocator_next", cursor, 0, pool.length);
  }

  @Override
  public long capacity() {
    return pool.length;
  }
}
