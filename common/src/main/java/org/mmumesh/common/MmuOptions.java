package org.mmumesh.common;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A policy plus the quirk flags in force. Every result of a run reports its options ({@link
 * #describe()}), so a figure can always be traced to the behaviour that produced it.
 *
 * @param policy the kernel behaviour modelled
 * @param quirks the quirks switched on (an unmodifiable copy is kept)
 */
public record MmuOptions(Policy policy, Set<Quirk> quirks) {

  public MmuOptions {
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(quirks, "quirks");
    quirks =
        quirks.isEmpty()
            ? Collections.emptySet()
            : Collections.unmodifiableSet(EnumSet.copyOf(quirks));
  }

  /**
   * The defaults of a policy (spec section 10): {@code fixed} carries the quirks the kernel had at
   * the change (Q2, Q3, Q4, Q5, Q7, Q8); {@code legacy} the ones it had before (the same less Q2,
   * which only matters once xlate can return -EPERM; Q4, "no read-only gate until C is set", is how
   * the kernel always mapped); {@code strict} carries none. Q1 is off everywhere.
   */
  public static MmuOptions defaults(Policy policy) {
    EnumSet<Quirk> kernel =
        EnumSet.of(
            Quirk.Q3_BAT_PP3_WRITABLE,
            Quirk.Q4_C_CAN_BE_MISSED,
            Quirk.Q5_HOST32_INSERTION,
            Quirk.Q7_MAP_FAILURE_LOOPS,
            Quirk.Q8_NOTIFIER_FULL_FLUSH);
    return switch (policy) {
      case LEGACY -> new MmuOptions(policy, kernel);
      case FIXED -> {
        kernel.add(Quirk.Q2_SECONDARY_HIDES_EPERM);
        yield new MmuOptions(policy, kernel);
      }
      case STRICT -> new MmuOptions(policy, EnumSet.noneOf(Quirk.class));
    };
  }

  /** True when {@code quirk} is switched on. */
  public boolean has(Quirk quirk) {
    return quirks.contains(quirk);
  }

  /** A copy with {@code quirk} switched on or off. */
  public MmuOptions with(Quirk quirk, boolean on) {
    EnumSet<Quirk> copy = quirks.isEmpty() ? EnumSet.noneOf(Quirk.class) : EnumSet.copyOf(quirks);
    if (on) {
      copy.add(quirk);
    } else {
      copy.remove(quirk);
    }
    return new MmuOptions(policy, copy);
  }

  /** For example {@code fixed[q2,q3]}. */
  public String describe() {
    return policy.cliName()
        + quirks.stream().sorted().map(Quirk::shortName).collect(Collectors.joining(",", "[", "]"));
  }
}
