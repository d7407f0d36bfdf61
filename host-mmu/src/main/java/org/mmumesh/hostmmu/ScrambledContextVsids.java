package org.mmumesh.hostmmu;

import org.mmumesh.common.Checks;

/**
 * The 64-bit host's per-vCPU VSID range (spec 5.2; {@code kvmppc_mmu_init} and {@code
 * create_sid_map} in {@code book3s_64_mmu_host.c}). The vCPU owns one MMU context {@code ctx}; its
 * proto-VSIDs run from {@code ctx << ESID_BITS} up to {@code ((ctx + 1) << ESID_BITS) - 1},
 * exclusive (the kernel tests {@code next == max} before allocating), and each is scrambled.
 *
 * <p><b>Scramble.</b> The kernel's {@code vsid_scramble(proto, 256M)} of the 3.1x era: {@code
 * (proto * VSID_MULTIPLIER_256M) mod VSID_MODULUS_256M} with the 24-bit prime multiplier 12538073
 * and modulus {@code 2^37 - 1} ({@code CONTEXT_BITS 19 + ESID_BITS 18}). [U: recalled from {@code
 * asm/mmu-hash64.h}, not re-checked against the commit's tree.] The multiplier is coprime with the
 * modulus, so distinct proto-VSIDs below the modulus give distinct VSIDs; only uniqueness matters
 * to the simulation.
 */
public final class ScrambledContextVsids implements VsidAllocator {
  /** {@code VSID_MULTIPLIER_256M}. */
  public static final long VSID_MULTIPLIER_256M = 12538073L;

  /** {@code CONTEXT_BITS}: context ids are below 2^19. */
  public static final int CONTEXT_BITS = 19;

  /** {@code ESID_BITS}: the kernel's proto-VSIDs per context is 2^18 (minus one). */
  public static final int ESID_BITS = 18;

  /** {@code VSID_MODULUS_256M = 2^37 - 1}. */
  public static final long VSID_MODULUS_256M = (1L << (CONTEXT_BITS + ESID_BITS)) - 1;

  private final int contextId;
  private final long first;
  private final long max;
  private long next;

  /**
   * @param contextId the vCPU's context, 1 to 2^19-1 (0 is the host kernel's)
   * @param esidBits proto-VSIDs per context as a power of two, 1 to 18; the kernel uses 18, tests
   *     use less to reach exhaustion quickly
   */
  public ScrambledContextVsids(int contextId, int esidBits) {
    Checks.inRange("esidBits", esidBits, 1, ESID_BITS);
    Checks.inRange("contextId", contextId, 1, (1L << CONTEXT_BITS) - 1);
    this.contextId = contextId;
    this.first = (long) contextId << ESID_BITS;
    this.max = first + (1L << esidBits) - 1;
    this.next = first;
  }

  /** {@code vsid_scramble(proto, 256M)}. */
  public static long vsidScramble(long protoVsid) {
    return Math.floorMod(protoVsid * VSID_MULTIPLIER_256M, VSID_MODULUS_256M);
  }

  @Override
  public boolean exhausted() {
    return next == max;
  }

  @Override
  public void reset() {
    next = first;
  }

  @Override
  public long allocate() {
    if (next == max) {
      throw new IllegalStateException("context " + contextId + ": proto-VSID range exhausted");
    }
    return vsidScramble(next++);
  }

  @Override
  public long cursor() {
    return next;
  }

  @Override
  public void restoreCursor(long cursor) {
    next =
        org.mmumesh.checkpoint.CheckpointMismatchException.checkRange(
            "allocator_next", cursor, first, max);
  }

  @Override
  public long capacity() {
    return max - first;
  }

  /** The context id. */
  public int contextId() {
    return contextId;
  }
}
