package org.mmumesh.report;

/** Argument checks that name the field and the allowed range. */
final class Checks {
  private Checks() {}

  static void nonNegative(String field, long v) {
    if (v < 0) {
      throw new IllegalArgumentException(field + ": " + v + " is out of range; allowed >= 0");
    }
  }

  static void nonNegative(String field, double v) {
    if (!(v >= 0) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(
          field + ": " + v + " is out of range; allowed a finite number >= 0");
    }
  }

  static void finite(String field, double v) {
    if (!Double.isFinite(v)) {
      throw new IllegalArgumentException(
          field + ": " + v + " is out of range; allowed a finite number");
    }
  }
}
