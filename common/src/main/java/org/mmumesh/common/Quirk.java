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
  Q3_BAT_PP3_WRITABLE("q3", "32-bit BAT PP=3 counts as writable"),
  /**
   * Q4: a guest load to a page the guest maps read/write, whose host page is already writable,
   * installs a read/write host HPTE, so a later store completes without an exit and leaves C clear.
   * Off (strict): the host HPTE stays read-only until the guest C bit is set.
   */
  Q4_C_CAN_BE_MISSED("q4", "a load may install a writable host HPTE, so a later store misses C"),
  /**
   * Q5: the 32-bit host's map_page starts with the secondary PTEG and, when it is full, overwrites
   * primary slot 0 without dropping the evicted entry's shadow-cache record.
   */
  Q5_HOST32_INSERTION("q5", "32-bit host insertion: secondary first, evict primary slot 0"),
  /**
   * Q7: a map_page failure (e.g. a store to a read-only host mapping) is ignored and the guest
   * faults again and again; mmumesh bounds the loop and reports the access failed. Off: the failure
   * is reported on the first fault.
   */
  Q7_MAP_FAILURE_LOOPS("q7", "a map_page failure is ignored and the guest re-faults"),
  /**
   * Q8: every MMU-notifier event flushes every shadow PTE of every vCPU. Off: only the affected
   * guest-real range is flushed (later kernels).
   */
  Q8_NOTIFIER_FULL_FLUSH("q8", "MMU-notifier events flush all shadow PTEs");

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
