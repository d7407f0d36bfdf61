package org.mmumesh.gateway;

/**
 * Checks of request fields, each naming the field and the allowed range in its {@link
 * GatewayException} (INVALID_ARGUMENT). Proto3 scalars are unsigned where the API says so ({@code
 * uint32}, {@code uint64}): values arrive in Java's signed types and are compared unsigned.
 */
public final class Fields {
  private Fields() {}

  /** {@code value} (a uint32) within {@code [min, max]}. */
  public static int uint32(String field, int value, long min, long max) {
    long v = Integer.toUnsignedLong(value);
    if (v < min || v > max) {
      throw GatewayException.badField(
          field, v + " is outside the allowed range " + min + " .. " + max);
    }
    return (int) v;
  }

  /** {@code value} (a uint64) within {@code [min, max]}, both non-negative. */
  public static long uint64(String field, long value, long min, long max) {
    if (Long.compareUnsigned(value, min) < 0 || Long.compareUnsigned(value, max) > 0) {
      throw GatewayException.badField(
          field,
          Long.toUnsignedString(value) + " is outside the allowed range " + min + " .. " + max);
    }
    return value;
  }

  /** {@code value} is a multiple of {@code unit}. */
  public static long multipleOf(String field, long value, long unit) {
    if (Long.remainderUnsigned(value, unit) != 0) {
      throw GatewayException.badField(
          field, Long.toUnsignedString(value) + " is not a multiple of " + unit);
    }
    return value;
  }

  /**
   * How a refused enum value reads in a message: its name, or "unknown number N" for a number this
   * version of the API does not define (proto3 keeps such a number as {@code UNRECOGNIZED}, whose
   * name would hide it).
   */
  public static String enumValue(java.util.function.IntFunction<?> forNumber, int number) {
    Object known = forNumber.apply(number);
    return known == null ? "unknown number " + number : known.toString();
  }

  /** A required message field. */
  public static <T> T present(String field, boolean has, T value) {
    if (!has) {
      throw GatewayException.badField(field, "is required");
    }
    return value;
  }

  /** A collection size within {@code [min, max]}. */
  public static int count(String field, int size, int min, int max) {
    if (size < min || size > max) {
      throw GatewayException.badField(
          field, size + " entries is outside the allowed range " + min + " .. " + max);
    }
    return size;
  }
}
