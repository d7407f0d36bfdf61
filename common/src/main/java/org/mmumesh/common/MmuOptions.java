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
   * The defaults of a policy (spec section 10): {@code legacy} and {@code fixed} carry the quirks
   * the kernel had (Q3 in both; Q2 only matters once xlate can return -EPERM, i.e. from the change
   * on); {@code strict} carries none. Q1 is off everywhere.
   */
  public static MmuOptions defaults(Policy policy) {
    return switch (policy) {
      case LEGACY -> new MmuOptions(policy, EnumSet.of(Quirk.Q3_BAT_PP3_WRITABLE));
      case FIXED ->
          new MmuOptions(
              policy, EnumSet.of(Quirk.Q2_SECONDARY_HIDES_EPERM, Quirk.Q3_BAT_PP3_WRITABLE));
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
