package org.mmumesh.checkpoint.store;

import java.time.Clock;
import java.time.Duration;

/**
 * How a store cuts and keeps checkpoints.
 *
 * @param chunkSizeBytes the size parts are cut into, 64 KiB to 64 MiB (default 1 MiB): one chunk is
 *     one row and one transaction
 * @param compress zstd (level 1) each chunk and keep the result when it saves at least an eighth
 *     (all-zero and repetitive chunks shrink to almost nothing; random contents are kept as they
 *     are)
 * @param pendingGrace at open, an unfinished checkpoint older than this is abandoned and its chunks
 *     deleted: zero for H2 (its file is locked by one process: nobody else can be writing), longer
 *     for a PostgreSQL shared by a cluster (another node may be writing right now)
 * @param connectionTimeout how long to wait for a connection (a stopped database fails after it)
 * @param clock the wall clock for manifests' created time and the grace period
 */
public record StoreOptions(
    int chunkSizeBytes,
    boolean compress,
    Duration pendingGrace,
    Duration connectionTimeout,
    Clock clock) {

  /** The smallest chunk size. */
  public static final int MIN_CHUNK_SIZE_BYTES = 64 << 10;

  /** The largest chunk size. */
  public static final int MAX_CHUNK_SIZE_BYTES = 64 << 20;

  public StoreOptions {
    if (chunkSizeBytes < MIN_CHUNK_SIZE_BYTES || chunkSizeBytes > MAX_CHUNK_SIZE_BYTES) {
      throw new IllegalArgumentException(
          "chunkSizeBytes: "
              + chunkSizeBytes
              + "; allowed "
              + MIN_CHUNK_SIZE_BYTES
              + "-"
              + MAX_CHUNK_SIZE_BYTES);
    }
    if (pendingGrace.isNegative()) {
      throw new IllegalArgumentException("pendingGrace: " + pendingGrace + "; allowed >= 0");
    }
    if (connectionTimeout.toMillis() < 250) {
      throw new IllegalArgumentException(
          "connectionTimeout: " + connectionTimeout + "; allowed >= 250 ms (HikariCP's minimum)");
    }
  }

  /** 1 MiB chunks, compressed when it pays, the given grace, 10 s to get a connection. */
  public static StoreOptions defaults(Duration pendingGrace) {
    return new StoreOptions(1 << 20, true, pendingGrace, Duration.ofSeconds(10), Clock.systemUTC());
  }

  public StoreOptions withChunkSizeBytes(int bytes) {
    return new StoreOptions(bytes, compress, pendingGrace, connectionTimeout, clock);
  }

  public StoreOptions withCompress(boolean on) {
    return new StoreOptions(chunkSizeBytes, on, pendingGrace, connectionTimeout, clock);
  }

  public StoreOptions withPendingGrace(Duration grace) {
    return new StoreOptions(chunkSizeBytes, compress, grace, connectionTimeout, clock);
  }

  public StoreOptions withConnectionTimeout(Duration timeout) {
    return new StoreOptions(chunkSizeBytes, compress, pendingGrace, timeout, clock);
  }
}
