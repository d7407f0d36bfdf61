package org.mmumesh.workload;

import java.util.SplittableRandom;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.RandomSourceState;
import org.mmumesh.common.Access;

/**
 * The generator behind {@link ReadMostlyPhase}: one vCPU's seeded stream of random accesses.
 *
 * <p><b>Pages.</b> Under {@link Locality#UNIFORM} a page is uniform over {@code 0 .. ws-1}. Under
 * {@link Locality#ZIPF} a rank {@code k} is drawn by {@link ZipfSampler} and mapped to page {@code
 * (a * (k - 1) + b) mod ws}, a fixed permutation of the working set (odd multiplier {@code a}
 * coprime to {@code ws}, offset {@code b}), so the hot pages are spread over the working set rather
 * than packed at gfn 0; the permutation depends only on the run seed, so every vCPU of every VM
 * agrees on which pages are hot (as identical guests running the same software would).
 *
 * <p><b>Offsets and sizes.</b> Data accesses are one naturally aligned word ({@link
 * MmuKind#wordBytes()}), instruction fetches 4 bytes aligned, at a uniform offset in the page; so
 * no access crosses a page. Store values are uniform 64-bit words from the same generator.
 */
final class RandomAccessSource implements AccessSource {
  private final long total;
  private static final int LOAD = Access.LOAD.ordinal();
  private static final int STORE = Access.STORE.ordinal();
  private static final int IFETCH = Access.IFETCH.ordinal();

  private final SplitMix64 rng;
  private final MmuKind mmu;
  private final ReadMostlyPhase phase;
  private final ZipfSampler zipf;
  private final long ws;
  private final long mult;
  private final long add;
  private final double ifetch;
  private final double loadBelow;
  private final int wordShift;
  private long remaining;

  RandomAccessSource(MmuKind mmu, ReadMostlyPhase phase, long seed, int vm, int vcpu) {
    // SplitMix64 is SplittableRandom draw for draw, with a readable state (checkpoint())
    this.rng = new SplitMix64(Seeds.derive(seed, Seeds.SALT_ACCESS, vm, vcpu));
    this.mmu = mmu;
    this.phase = phase;
    this.ws = phase.workingSetPages();
    this.zipf =
        phase.locality() == Locality.ZIPF ? new ZipfSampler(ws, phase.zipfExponent()) : null;
    SplittableRandom perm = new SplittableRandom(Seeds.derive(seed, Seeds.SALT_PERMUTE, 0, 0));
    this.mult = coprimeMultiplier(ws, perm);
    this.add = ws == 1 ? 0 : perm.nextLong(ws);
    this.ifetch = phase.ifetchFraction();
    this.loadBelow = ifetch + phase.readFraction() * (1.0 - ifetch);
    this.wordShift = Integer.numberOfTrailingZeros(mmu.wordBytes());
    this.remaining = phase.accessesPerVcpu();
    this.total = phase.accessesPerVcpu();
  }

  /** An odd multiplier below 2^26 (so {@code a * k} cannot overflow for k < 2^37) coprime to ws. */
  private static long coprimeMultiplier(long ws, SplittableRandom perm) {
    if (ws <= 2) {
      return 1;
    }
    long bound = Math.min(ws, 1L << 26);
    while (true) {
      long a = perm.nextLong(bound) | 1;
      if (gcd(a, ws) == 1) {
        return a;
      }
    }
  }

  private static long gcd(long a, long b) {
    while (b != 0) {
      long t = a % b;
      a = b;
      b = t;
    }
    return a;
  }

  /** The page the stream's access pattern maps Zipf rank {@code k} (1-based) to. */
  long pageOfRank(long k) {
    return (mult * (k - 1) + add) % ws;
  }

  @Override
  public long expectedAccesses() {
    return total;
  }

  @Override
  public int fill(AccessBatch batch) {
    batch.clear();
    int n = (int) Math.min(remaining, batch.capacity());
    for (int i = 0; i < n; i++) {
      long page = zipf != null ? pageOfRank(zipf.sample(rng)) : rng.nextLong(ws);
      double u = rng.nextDouble();
      if (u < ifetch) {
        int off = rng.nextInt(MmuKind.PAGE_BYTES >>> 2) << 2;
        batch.add(IFETCH, mmu.eaOf(page, off), 4, 0L);
      } else {
        int off = rng.nextInt(MmuKind.PAGE_BYTES >>> wordShift) << wordShift;
        if (u < loadBelow) {
          batch.add(LOAD, mmu.eaOf(page, off), mmu.wordBytes(), 0L);
        } else {
          batch.add(STORE, mmu.eaOf(page, off), mmu.wordBytes(), rng.nextLong());
        }
      }
    }
    remaining -= n;
    return n;
  }

  /** The generator's seed word and the accesses still to come (style rule 26). Pure. */
  @Override
  public RandomSourceState checkpointState() {
    return RandomSourceState.newBuilder()
        .setGeneratorSeed(rng.state())
        .setRemainingAccesses(remaining)
        .build();
  }

  @Override
  public void restoreState(RandomSourceState state) {
    CheckpointMismatchException.checkRange(
        "random.remaining_accesses", state.getRemainingAccesses(), 0, total);
    rng.restore(state.getGeneratorSeed());
    remaining = state.getRemainingAccesses();
  }

  @Override
  public String toString() {
    return "RandomAccessSource[" + phase + ", remaining=" + remaining + "]";
  }
}
