package org.mmumesh.common;

/**
 * Argument checks whose messages name the field and the allowed range, as every bad-input error in
 * mmumesh must. They throw {@link IllegalArgumentException} and are called before any state is
 * changed.
 */
public final class Checks {
  private Checks() {}

  /** Requires {@code min <= value <= max}. */
  public static long inRange(String field, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          field + ": " + value + " is out of range; allowed " + min + " to " + max);
    }
    return value;
  }

  /** Requires {@code 0 <= value <= max}, treating both as unsigned and printing them in hex. */
  public static long unsignedAtMost(String field, long value, long max) {
    if (Long.compareUnsigned(value, max) > 0) {
      throw new IllegalArgumentException(
          field
              + ": 0x"
              + Long.toHexString(value)
              + " is out of range; allowed 0x0 to 0x"
              + Long.toHexString(max));
    }
    return value;
  }

  /** Requires {@code value & mask == 0}, naming the bits that must be clear. */
  public static long bitsClear(String field, long value, long mask, String why) {
    if ((value & mask) != 0) {
      throw new IllegalArgumentException(
          field
              + ": 0x"
              + Long.toHexString(value)
              + " has bits 0x"
              + Long.toHexString(value & mask)
              + " set; "
              + why);
    }
    return value;
  }
}
