package org.mmumesh.workload;

import org.mmumesh.common.Access;

/**
 * A {@link LackeyTrace} folded into a guest EA window ({@link AddressFolding}): compact parallel
 * arrays of kind, window EA and size, ready to replay. No access crosses a page: a trace access
 * that straddled a 4 KiB boundary was split into one access per page, in address order (the pages
 * may fold to non-adjacent window pages, as two translations would find them).
 *
 * <p>Immutable. {@link #source(long)} replays it; store values, which Lackey does not record, are
 * {@link ReplayableTrace#storeValue}: equal seeds give equal values, so guests replaying the same
 * trace stay identical. Holds every access in memory (11 bytes each): workloads use {@link
 * StreamedTrace}.
 */
public final class FoldedTrace implements ReplayableTrace {
  private static final Access[] KINDS = Access.values();

  private final String source;
  private final byte[] kinds;
  private final long[] eas;
  private final short[] sizes;
  private final long windowBaseEa;
  private final long windowPages;
  private final int distinctPages;

  FoldedTrace(
      String source,
      byte[] kinds,
      long[] eas,
      short[] sizes,
      long windowBaseEa,
      long windowPages,
      int distinctPages) {
    this.source = source;
    this.kinds = kinds;
    this.eas = eas;
    this.sizes = sizes;
    this.windowBaseEa = windowBaseEa;
    this.windowPages = windowPages;
    this.distinctPages = distinctPages;
  }

  @Override
  public String sourceName() {
    return source;
  }

  /** The number of accesses. */
  public int size() {
    return kinds.length;
  }

  @Override
  public long accesses() {
    return kinds.length;
  }

  /** The kind of access {@code i}. */
  public Access kind(int i) {
    return KINDS[kinds[i]];
  }

  /** The window EA of access {@code i}. */
  public long ea(int i) {
    return eas[i];
  }

  /** The size in bytes of access {@code i} (1 to 4096, within one page). */
  public int sizeBytes(int i) {
    return sizes[i];
  }

  @Override
  public long windowBaseEa() {
    return windowBaseEa;
  }

  @Override
  public long windowPages() {
    return windowPages;
  }

  @Override
  public int distinctPages() {
    return distinctPages;
  }

  @Override
  public AccessSource source(long seed) {
    long storeKey = ReplayableTrace.storeKey(seed);
    return new AccessSource() {
      private int next;

      @Override
      public long expectedAccesses() {
        return kinds.length;
      }

      @Override
      public int fill(AccessBatch batch) {
        batch.clear();
        int n = Math.min(kinds.length - next, batch.capacity());
        for (int i = next; i < next + n; i++) {
          int k = kinds[i];
          long v = k == Access.STORE.ordinal() ? ReplayableTrace.storeValue(storeKey, i) : 0L;
          batch.add(k, eas[i], sizes[i], v);
        }
        next += n;
        return n;
      }
    };
  }
}
