package org.mmumesh.workload;

import java.util.random.RandomGenerator;

/**
 * The SplitMix64 generator of {@link java.util.SplittableRandom}, draw for draw, with its whole
 * state in one readable {@code long} (issue 13: a workload's random state must be written to a
 * checkpoint and read back; {@code SplittableRandom} hides its state). Same seed, same sequence:
 * {@code new SplitMix64(s)} returns what {@code new SplittableRandom(s)} returns for {@link
 * #nextLong()}, {@link #nextInt()}, {@link #nextDouble()}, {@link #nextInt(int)} and {@link
 * #nextLong(long)} (the JDK's algorithms: Steele, Lea and Flood, "Fast splittable pseudorandom
 * number generators", OOPSLA 2014, with the golden gamma; bounded draws by rejection as {@code
 * RandomSupport.boundedNextInt/Long}); a test compares them. Not thread-safe.
 */
public final class SplitMix64 implements RandomGenerator {
  /** SplittableRandom's GOLDEN_GAMMA, the increment of an unsplit generator. */
  private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

  private long seed;

  /** A generator at seed word {@code seed} (as {@code new SplittableRandom(seed)}). */
  public SplitMix64(long seed) {
    this.seed = seed;
  }

  /** The whole state: the seed word, advanced by the golden gamma per draw. */
  public long state() {
    return seed;
  }

  /** Sets the whole state (a checkpoint's {@link #state()}). */
  public void restore(long state) {
    this.seed = state;
  }

  private long nextSeed() {
    return seed += GOLDEN_GAMMA;
  }

  private static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  private static int mix32(long z) {
    z = (z ^ (z >>> 33)) * 0x62a9d9ed799705f5L;
    return (int) (((z ^ (z >>> 28)) * 0xcb24d0a5c88c35b3L) >>> 32);
  }

  @Override
  public long nextLong() {
    return mix64(nextSeed());
  }

  @Override
  public int nextInt() {
    return mix32(nextSeed());
  }

  @Override
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  @Override
  public int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound: " + bound + "; allowed 1 or more");
    }
    int r = nextInt();
    int m = bound - 1;
    if ((bound & m) == 0) {
      return r & m;
    }
    for (int u = r >>> 1; u + m - (r = u % bound) < 0; u = nextInt() >>> 1) {
      // rejected: draw again
    }
    return r;
  }

  @Override
  public long nextLong(long bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound: " + bound + "; allowed 1 or more");
    }
    long m = bound - 1;
    long r = nextLong();
    if ((bound & m) == 0L) {
      return r & m;
    }
    for (long u = r >>> 1; u + m - (r = u % bound) < 0L; u = nextLong() >>> 1) {
      // rejected: draw again
    }
    return r;
  }
}
