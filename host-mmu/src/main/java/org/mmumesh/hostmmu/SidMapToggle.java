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

  /** The toggle's state (checkpoint; pure). */
  public org.mmumesh.checkpoint.v1.SidMapToggleState checkpoint() {
    return org.mmumesh.checkpoint.v1.SidMapToggleState.newBuilder().setBackwards(backwards).build();
  }

  /** A toggle in the state {@code s} (for the owner of a host-wide toggle). */
  public static SidMapToggle restore(org.mmumesh.checkpoint.v1.SidMapToggleState s) {
    SidMapToggle t = new SidMapToggle();
    t.backwards = s.getBackwards();
    return t;
  }

  void restoreFrom(org.mmumesh.checkpoint.v1.SidMapToggleState s) {
    backwards = s.getBackwards();
  }
}
