package org.mmumesh.checkpoint.store;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.sql.SQLException;
import java.util.Arrays;
import org.mmumesh.checkpoint.v1.CheckpointManifest;
import org.mmumesh.checkpoint.v1.PartEntry;

/**
 * Reads one complete checkpoint through a {@link JdbcCheckpointStore}: one SELECT per chunk (a
 * pooled connection each, so a reader holds nothing between reads), each chunk decoded and checked
 * by {@link ChunkCodec}, each part's length and SHA-256 checked after its last chunk.
 */
final class JdbcCheckpointReader implements CheckpointReader {
  private final JdbcCheckpointStore store;
  private final String checkpointId;
  private final CheckpointManifest manifest;

  JdbcCheckpointReader(
      JdbcCheckpointStore store, String checkpointId, CheckpointManifest manifest) {
    this.store = store;
    this.checkpointId = checkpointId;
    this.manifest = manifest;
  }

  @Override
  public CheckpointManifest manifest() {
    return manifest;
  }

  @Override
  public InputStream openPart(PartEntry part) {
    return new PartStream(part);
  }

  @Override
  public byte[] readPart(String entityKind, String entityId) throws CheckpointException {
    PartEntry part =
        part(entityKind, entityId)
            .orElseThrow(
                () ->
                    new CheckpointNotFoundException(
                        manifest.getCheckpointName(),
                        "has no part (" + entityKind + ", " + entityId + ")"));
    if (part.getLengthBytes() > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "part ("
              + entityKind
              + ", "
              + entityId
              + ") is "
              + part.getLengthBytes()
              + " bytes; readPart holds at most "
              + (Integer.MAX_VALUE - 8)
              + ": stream it with openPart");
    }
    byte[] out = new byte[(int) part.getLengthBytes()];
    try (InputStream in = openPart(part)) {
      int n = in.readNBytes(out, 0, out.length);
      if (n != out.length || in.read() != -1) {
        throw new IllegalStateException("PartStream ended at " + n + " of " + out.length);
      }
    } catch (CheckpointStreamException e) {
      throw e.checkpointException();
    } catch (IOException e) {
      throw new IllegalStateException("PartStream throws only CheckpointStreamException", e);
    }
    return out;
  }

  @Override
  public void verify() throws CheckpointException {
    byte[] sink = new byte[64 << 10];
    for (PartEntry part : parts()) {
      try (InputStream in = openPart(part)) {
        while (in.read(sink, 0, sink.length) >= 0) {
          // read to the end: the stream checks every chunk and, at the end, the part
        }
      } catch (CheckpointStreamException e) {
        throw e.checkpointException();
      } catch (IOException e) {
        throw new IllegalStateException("PartStream throws only CheckpointStreamException", e);
      }
    }
  }

  @Override
  public void close() {
    // nothing held: each chunk read borrows a pooled connection
  }

  /** One part's bytes, a chunk at a time, checked as they come. */
  private final class PartStream extends InputStream {
    private final PartEntry part;
    private final MessageDigest sha = JdbcCheckpointWriter.sha256();
    private int nextChunk;
    private long read;
    private byte[] chunk = new byte[0];
    private int pos;
    private boolean finished;

    PartStream(PartEntry part) {
      this.part = part;
    }

    @Override
    public int read() throws IOException {
      if (!fill()) {
        return -1;
      }
      return chunk[pos++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      if (!fill()) {
        return -1;
      }
      int n = Math.min(len, chunk.length - pos);
      System.arraycopy(chunk, pos, b, off, n);
      pos += n;
      return n;
    }

    /** True when bytes are available in {@code chunk}; false at the verified end of the part. */
    private boolean fill() throws CheckpointStreamException {
      while (pos == chunk.length) {
        if (finished) {
          return false;
        }
        if (nextChunk == part.getChunkCount()) {
          finish();
          return false;
        }
        String where = where(nextChunk);
        byte[] stored;
        try {
          stored = store.readChunk(checkpointId, part.getPartIndex(), nextChunk);
        } catch (SQLException e) {
          throw new CheckpointStreamException(
              new CheckpointStoreFailedException(
                  manifest.getCheckpointName(),
                  "the store failed reading " + where + ": " + JdbcCheckpointStore.sqlMessage(e),
                  e));
        }
        if (stored == null) {
          throw corrupt(where + ": missing (deleted while being read?)", null);
        }
        try {
          chunk = ChunkCodec.decode(stored, part.getPartIndex(), nextChunk, where);
        } catch (ChunkCodec.CorruptChunk e) {
          throw corrupt(e.getMessage(), e);
        }
        pos = 0;
        read += chunk.length;
        if (read > part.getLengthBytes()) {
          throw corrupt(where + ": the part is longer than its " + part.getLengthBytes(), null);
        }
        sha.update(chunk);
        nextChunk++;
      }
      return true;
    }

    private void finish() throws CheckpointStreamException {
      finished = true;
      if (read != part.getLengthBytes()) {
        throw corrupt(
            partName() + ": " + read + " bytes where the manifest says " + part.getLengthBytes(),
            null);
      }
      if (!Arrays.equals(sha.digest(), part.getSha256().toByteArray())) {
        throw corrupt(partName() + ": SHA-256 mismatch", null);
      }
    }

    private String partName() {
      return "part "
          + part.getPartIndex()
          + " ("
          + part.getEntityKind()
          + " "
          + part.getEntityId()
          + ")";
    }

    private String where(int chunkIndex) {
      return partName() + " chunk " + chunkIndex + " of " + part.getChunkCount();
    }

    private CheckpointStreamException corrupt(String what, Throwable cause) {
      finished = true;
      chunk = new byte[0];
      pos = 0;
      return new CheckpointStreamException(
          new CheckpointCorruptException(manifest.getCheckpointName(), what, cause));
    }
  }
}
