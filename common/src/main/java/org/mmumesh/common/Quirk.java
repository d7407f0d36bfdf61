package org.mmumesh.common;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The kernel's quirks at the change (spec 1.3), each an individually switchable flag. A quirk is
 * listed here only once the code that honours it exists.
 */
public enum Quirk {
  /**
   * Q1 (BUGCOMPAT_RC_LOST): xlate's single-byte R/C writes go to an on-stack copy and never reach
   * guest memory. Off by default in every policy, since it hides the very bits the change is about.
   */
  Q1_RC_LOST("q1", "R/C byte writes never reach the guest HPT"),
  /**
   * Q2: the 32-bit xlate searches the secondary PTEG after any negative primary result, so a
   * primary -EPERM is overwritten (-ENOENT if the secondary has no match).
   */
  Q2_SECONDARY_HIDES_EPERM("q2", "32-bit secondary PTEG search hides a primary -EPERM"),
  /** Q3: a BAT is writable when {@code pp > 1}, so BAT PP=3 counts as writable. */
  Q3_BAT_PP3_WRITABLE("q3", "32-bit BAT PP=3 counts as writable");

  private final String shortName;
  private final String description;

  Quirk(String shortName, String description) {
    this.shortName = shortName;
    this.description = description;
  }

  /** The short flag name (q1, q2, ...) used on command lines. */
  public String shortName() {
    return shortName;
  }

  /** One line saying what the quirk does. */
  public String description() {
    return description;
  }

  /**
   * Parses a quirk by short name (q2) or enum name (Q2_SECONDARY_HIDES_EPERM).
   *
   * @throws IllegalArgumentException naming the allowed values
   */
  public static Quirk parse(String text) {
    if (text != null) {
      String t = text.trim().toLowerCase(Locale.ROOT);
      for (Quirk q : values()) {
        if (q.shortName.equals(t) || q.name().toLowerCase(Locale.ROOT).equals(t)) {
          return q;
        }
      }
    }
    throw new IllegalArgumentException(
        "quirk: '"
            + text
            + "' is not a quirk; allowed: "
            + Arrays.stream(values()).map(Quirk::shortName).collect(Collectors.joining(", ")));
  }
}
