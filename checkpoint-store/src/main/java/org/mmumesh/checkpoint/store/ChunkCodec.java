package org.mmumesh.checkpoint.store;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdException;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import java.util.zip.CRC32C;
import org.mmumesh.checkpoint.v1.ChunkCompression;
import org.mmumesh.checkpoint.v1.ChunkFrame;

/**
 * A chunk's bytes to and from its stored {@link ChunkFrame}: CRC32C of the bytes as written, zstd
 * when it saves at least an eighth. Pure: no I/O.
 */
final class ChunkCodec {
  /** zstd's fastest regular level: the aim is bytes per second, not the last percent of space. */
  private static final int ZSTD_LEVEL = 1;

  private ChunkCodec() {}

  /** The stored frame of {@code bytes[0, length)}. */
  static byte[] encode(int partIndex, int chunkIndex, byte[] bytes, int length, boolean compress) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, length);
    ChunkFrame.Builder frame =
        ChunkFrame.newBuilder()
            .setPartIndex(partIndex)
            .setChunkIndex(chunkIndex)
            .setLengthBytes(length)
            .setCrc32C((int) crc.getValue());
    byte[] packed = null;
    int packedLength = 0;
    if (compress && length > 0) {
      byte[] z = new byte[(int) Zstd.compressBound(length)];
      long n = Zstd.compressByteArray(z, 0, z.length, bytes, 0, length, ZSTD_LEVEL);
      if (!Zstd.isError(n) && n <= length - (length >> 3)) {
        packed = z;
        packedLength = (int) n;
      }
    }
    if (packed != null) {
      frame.setCompression(ChunkCompression.CHUNK_COMPRESSION_ZSTD);
      frame.setData(UnsafeByteOperations.unsafeWrap(packed, 0, packedLength));
    } else {
      frame.setCompression(ChunkCompression.CHUNK_COMPRESSION_NONE);
      frame.setData(ByteString.copyFrom(bytes, 0, length));
    }
    return frame.build().toByteArray();
  }

  /**
   * The chunk's bytes, checked: the frame parses, is the chunk expected, decompresses to its length
   * and matches its CRC32C.
   *
   * @param where names the part and chunk for the error message
   * @throws CorruptChunk what is wrong
   */
  static byte[] decode(byte[] stored, int partIndex, int chunkIndex, String where)
      throws CorruptChunk {
    ChunkFrame frame;
    try {
      frame = ChunkFrame.parseFrom(stored);
    } catch (InvalidProtocolBufferException e) {
      throw new CorruptChunk(where + ": the stored frame does not parse (" + e.getMessage() + ")");
    }
    if (frame.getPartIndex() != partIndex || frame.getChunkIndex() != chunkIndex) {
      throw new CorruptChunk(
          where
              + ": the frame says part "
              + frame.getPartIndex()
              + " chunk "
              + frame.getChunkIndex());
    }
    int length = frame.getLengthBytes();
    byte[] bytes;
    switch (frame.getCompression()) {
      case CHUNK_COMPRESSION_NONE -> bytes = frame.getData().toByteArray();
      case CHUNK_COMPRESSION_ZSTD -> {
        try {
          bytes = Zstd.decompress(frame.getData().toByteArray(), length);
        } catch (ZstdException e) {
          throw new CorruptChunk(
              where + ": zstd data does not decompress (" + e.getMessage() + ")");
        }
      }
      default ->
          throw new CorruptChunk(
              where
                  + ": compression "
                  + frame.getCompressionValue()
                  + " unknown; allowed CHUNK_COMPRESSION_NONE (1), CHUNK_COMPRESSION_ZSTD (2)");
    }
    if (bytes.length != length) {
      throw new CorruptChunk(where + ": " + bytes.length + " bytes where the frame says " + length);
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, length);
    if ((int) crc.getValue() != frame.getCrc32C()) {
      throw new CorruptChunk(
          where
              + ": CRC32C mismatch (stored "
              + Integer.toHexString(frame.getCrc32C())
              + ", computed "
              + Integer.toHexString((int) crc.getValue())
              + ")");
    }
    return bytes;
  }

  /** A chunk failed a check; the message says which and how. */
  static final class CorruptChunk extends Exception {
    private static final long serialVersionUID = 1L;

    CorruptChunk(String message) {
      super(message);
    }
  }
}
