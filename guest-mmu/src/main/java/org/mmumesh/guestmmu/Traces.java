package org.mmumesh.guestmmu;

/** Helpers the two MMU models share to describe a walk for an {@link XlateTrace}. */
final class Traces {
  private Traces() {}

  /** Passes {@code line} to {@code t} when tracing is on. */
  static void step(XlateTrace t, String line) {
    if (t != null) {
      t.step(line);
    }
  }

  /** How one bit changed: "set", "cleared", "already set" or "clear". */
  static String bit(long before, long after, long mask) {
    boolean b = (before & mask) != 0;
    boolean a = (after & mask) != 0;
    return b == a ? (a ? "already set" : "clear") : a ? "set" : "cleared";
  }
}
