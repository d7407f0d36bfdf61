package org.mmumesh.workload;

/**
 * A trace folded into a guest EA window ({@link AddressFolding}) that every vCPU can replay from
 * its start: in memory ({@link FoldedTrace}) or streamed from its file ({@link StreamedTrace}).
 * Both give the same accesses and store values for the same trace, seed and window.
 */
public interface ReplayableTrace {
  /** Where the trace came from (a path or a name). */
  String sourceName();

  /** The number of accesses a replay produces (after splitting at page boundaries). */
  long accesses();

  /** The base EA of the window folded into. */
  long windowBaseEa();

  /** The size of the window folded into, in pages. */
  long windowPages();

  /** How many distinct window pages the trace touches (pages {@code 0 .. distinctPages-1}). */
  int distinctPages();

  /** A fresh source replaying the trace from its start. */
  AccessSource source(long seed);

  /**
   * The value of a store at replay index {@code index} (Lackey records no values): {@code
   * avalanche(storeKey + index * 0x9E3779B97F4A7C15)} with {@code storeKey} derived from the seed,
   * so equal seeds give equal values and guests replaying one trace stay identical.
   */
  static long storeValue(long storeKey, long index) {
    return org.mmumesh.common.Fingerprint.avalanche(storeKey + index * 0x9E3779B97F4A7C15L);
  }

  /** The key {@link #storeValue} derives from {@code seed}. */
  static long storeKey(long seed) {
    return Seeds.derive(seed, Seeds.SALT_STORE, 0, 0);
  }
}
