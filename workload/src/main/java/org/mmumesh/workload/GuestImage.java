package org.mmumesh.workload;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.mmumesh.common.Checks;
import org.mmumesh.common.Fingerprint;

/**
 * The initial contents of a guest's memory: one 64-bit {@link Fingerprint} per 4 KiB page
 * (architecture section 1, "page contents are fingerprints"), page {@code p} being gfn {@code p}.
 * Guest memory beyond {@link #pages()} starts as zero pages ({@link Fingerprint#ZERO}). Several VMs
 * booted from the same image start with equal pages, which is what lets KSM merge them (spec 7).
 *
 * <p>Immutable; the fingerprints are copied in and out.
 */
public final class GuestImage {
  /** The largest image, in pages (the bound of a Java array). */
  public static final int MAX_PAGES = Integer.MAX_VALUE - 8;

  /** How many distinct shared contents a {@link #synthetic} image repeats. */
  public static final int SYNTHETIC_SHARED_CONTENTS = 16;

  private final long[] fingerprints;

  private GuestImage(long[] fingerprints) {
    this.fingerprints = fingerprints;
  }

  /** An image holding a copy of {@code fingerprints} (page {@code p} = element {@code p}; 1+). */
  public static GuestImage of(long[] fingerprints) {
    Checks.inRange("fingerprints.length", fingerprints.length, 1, MAX_PAGES);
    return new GuestImage(fingerprints.clone());
  }

  /** Wraps without copying: for loaders in this package that own the array. */
  static GuestImage wrap(long[] fingerprints) {
    return new GuestImage(fingerprints);
  }

  /**
   * A deterministic demo image of {@code pages} pages. Each page independently is, drawn with the
   * seeded generator: with probability {@code distinctFraction} a unique content (a fingerprint no
   * other page has, up to the collision bound of {@link Fingerprint}); otherwise, with equal
   * probability, a zero page or one of {@link #SYNTHETIC_SHARED_CONTENTS} shared contents (like the
   * repeated library and kernel pages of real guests). So about {@code (1 - distinctFraction)} of
   * the pages are mergeable within one guest, and every page is mergeable across guests booted from
   * the same image.
   *
   * @param pages 1 to {@link #MAX_PAGES}
   * @param distinctFraction 0 to 1
   */
  public static GuestImage synthetic(long pages, double distinctFraction, long seed) {
    Checks.inRange("pages", pages, 1, MAX_PAGES);
    checkFraction("distinctFraction", distinctFraction);
    SplittableRandom rng = new SplittableRandom(Seeds.derive(seed, Seeds.SALT_IMAGE, 0, 0));
    long[] shared = new long[SYNTHETIC_SHARED_CONTENTS];
    for (int i = 0; i < shared.length; i++) {
      shared[i] = Fingerprint.avalanche(Seeds.derive(seed, Seeds.SALT_IMAGE, 1, i));
    }
    long[] f = new long[(int) pages];
    double zeroBelow = distinctFraction + (1.0 - distinctFraction) / 2.0;
    for (int p = 0; p < f.length; p++) {
      double u = rng.nextDouble();
      if (u < distinctFraction) {
        f[p] = Seeds.derive(seed, Seeds.SALT_IMAGE, 2, p);
      } else if (u < zeroBelow) {
        f[p] = Fingerprint.ZERO;
      } else {
        f[p] = shared[rng.nextInt(shared.length)];
      }
    }
    return new GuestImage(f);
  }

  /** The number of pages in the image. */
  public int pages() {
    return fingerprints.length;
  }

  /** The fingerprint of page {@code page} (0 to {@code pages() - 1}). */
  public long fingerprint(int page) {
    if (page < 0 || page >= fingerprints.length) {
      Checks.inRange("page", page, 0, fingerprints.length - 1L);
    }
    return fingerprints[page];
  }

  /**
   * The fingerprint of guest page {@code gfn}: the image's, or {@link Fingerprint#ZERO} past it.
   */
  public long fingerprintOrZero(long gfn) {
    return gfn >= 0 && gfn < fingerprints.length ? fingerprints[(int) gfn] : Fingerprint.ZERO;
  }

  /** Copies {@code length} fingerprints from page {@code fromPage} into {@code dst}. */
  public void copyTo(int fromPage, long[] dst, int dstPos, int length) {
    System.arraycopy(fingerprints, fromPage, dst, dstPos, length);
  }

  /** A copy of all fingerprints. */
  public long[] toArray() {
    return fingerprints.clone();
  }

  /** The number of distinct fingerprints (a sort of a copy: O(n log n)). */
  public int distinctContents() {
    if (fingerprints.length == 0) {
      return 0;
    }
    long[] s = fingerprints.clone();
    Arrays.sort(s);
    int d = 1;
    for (int i = 1; i < s.length; i++) {
      if (s[i] != s[i - 1]) {
        d++;
      }
    }
    return d;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GuestImage g && Arrays.equals(fingerprints, g.fingerprints);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(fingerprints);
  }

  @Override
  public String toString() {
    return "GuestImage[pages=" + fingerprints.length + "]";
  }

  static double checkFraction(String field, double v) {
    if (!(v >= 0.0 && v <= 1.0)) {
      throw new IllegalArgumentException(field + ": " + v + " is out of range; allowed 0 to 1");
    }
    return v;
  }
}
