package org.mmumesh.hostmmu;

/**
 * The kernel-global {@code backwards_map} toggle of {@code create_sid_map} (spec 5.2). In the
 * kernel it is one static variable shared by every vCPU of every VM on a host; here it is an
 * explicit object that the {@link SidMap}s of one simulated host share, so the alternation is
 * visible and a run stays deterministic. Not thread-safe: one host is driven by one thread (or one
 * actor) at a time.
 */
public final class SidMapToggle {
  private boolean backwards;

  /** A toggle that starts forwards (the first map created goes to slot {@code h}). */
  public SidMapToggle() {}

  /**
   * Returns whether this creation uses the alternate slot {@code 511-h}, and flips the toggle for
   * the next creation.
   */
  public boolean next() {
    boolean b = backwards;
    backwards = !backwards;
    return b;
  }

  /** The value {@link #next()} will return, without flipping. */
  public boolean peek() {
    return backwards;
  }
}
