package org.mmumesh.common;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Which kernel behaviour a run models (architecture section 1, spec section 10).
 *
 * <ul>
 *   <li>{@link #LEGACY}: the kernel before "Better handling of host-side read-only pages": C set on
 *       any access the HPTE allows writing, no -EPERM for stores to read-only pages, every map asks
 *       for write access.
 *   <li>{@link #FIXED}: the kernel at the change, with its quirks (spec 1.3).
 *   <li>{@link #STRICT}: what the architecture intends: no quirks.
 * </ul>
 */
public enum Policy {
  LEGACY,
  FIXED,
  STRICT;

  /** The lower-case name used on command lines and in reports. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses a policy name, case-insensitively.
   *
   * @throws IllegalArgumentException naming the allowed values when {@code text} is not one
   */
  public static Policy parse(String text) {
    if (text != null) {
      for (Policy p : values()) {
        if (p.cliName().equalsIgnoreCase(text.trim())) {
          return p;
        }
      }
    }
    throw new IllegalArgumentException(
        "policy: '"
            + text
            + "' is not a policy; allowed: "
            + Arrays.stream(values()).map(Policy::cliName).collect(Collectors.joining(", ")));
  }
}
