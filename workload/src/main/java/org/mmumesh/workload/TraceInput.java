package org.mmumesh.workload;

import com.github.luben.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Opens a trace file as a stream of text bytes, decompressing by <b>content</b>: a file starting
 * with the gzip magic {@code 1f 8b} is read through the JDK's {@link GZIPInputStream}, one starting
 * with the Zstandard frame magic {@code 28 b5 2f fd} through zstd-jni, anything else as plain text,
 * whatever the file's name. The first {@link #SNIFF_BYTES} bytes of the (decompressed) text are
 * checked before any line is parsed: a control byte other than tab, line feed and carriage return
 * (NUL, ESC, BEL, ...) makes the file binary, refused in one line naming the file and its first
 * bytes in hex, so raw bytes never reach the terminal.
 *
 * <p>Opening again reads the file again (and decompresses it again): a trace is read once to check
 * and count it, then once per replaying vCPU.
 */
final class TraceInput {
  /** How many bytes of the text are checked for binary data. */
  static final int SNIFF_BYTES = 4096;

  /** How many of the file's first bytes an error message shows in hex. */
  static final int HEX_BYTES = 16;

  private static final int FILE_BUFFER = 1 << 16;

  /** The file's format, told by its first bytes. */
  enum Format {
    TEXT("text"),
    GZIP("gzip-compressed"),
    ZSTD("zstd-compressed");

    final String words;

    Format(String words) {
      this.words = words;
    }

    static Format of(byte[] head, int n) {
      if (n >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
        return GZIP;
      }
      if (n >= 4
          && (head[0] & 0xff) == 0x28
          && (head[1] & 0xff) == 0xb5
          && (head[2] & 0xff) == 0x2f
          && (head[3] & 0xff) == 0xfd) {
        return ZSTD;
      }
      return TEXT;
    }
  }

  private TraceInput() {}

  /**
   * Opens {@code path}'s text, decompressed if need be and checked not to be binary.
   *
   * @throws IllegalArgumentException naming the path if it cannot be read (in words, see {@link
   *     IoErrors}) or is not text
   */
  static Opened open(Path path) {
    String what = "lackey trace " + path;
    if (Files.exists(path) && !Files.isDirectory(path) && !Files.isRegularFile(path)) {
      // a pipe, a FIFO, /dev/stdin, <(zcat ...): the second read would fail or wait forever
      throw new IllegalArgumentException(
          what
              + ": must be a regular file (it is read more than once): save the trace to a file,"
              + " compressed if you like (.gz, .zst)");
    }
    byte[] head = new byte[HEX_BYTES];
    int headLen;
    InputStream file = null;
    try {
      file = new BufferedInputStream(Files.newInputStream(path), FILE_BUFFER);
      file.mark(HEX_BYTES);
      headLen = file.readNBytes(head, 0, HEX_BYTES);
      file.reset();
      Format format = Format.of(head, headLen);
      InputStream text =
          switch (format) {
            case TEXT -> file;
            case GZIP -> new BufferedInputStream(gzip(file), FILE_BUFFER);
            case ZSTD ->
                new BufferedInputStream(
                    new Decompressed(new ZstdInputStream(file), format), FILE_BUFFER);
          };
      text.mark(SNIFF_BYTES);
      byte[] sniff = text.readNBytes(SNIFF_BYTES);
      text.reset();
      for (byte b : sniff) {
        if (isBinary(b)) {
          String where =
              format == Format.TEXT
                  ? ""
                  : " (" + format.words + "; its decompressed data holds binary bytes)";
          throw new IllegalArgumentException(
              what
                  + ": not a Lackey trace"
                  + where
                  + "; its first bytes are "
                  + hex(head, headLen)
                  + "; expected text lines ('I  <hex address>,<size>', ' L|S|M <hex"
                  + " address>,<size>'), plain or compressed with gzip (1f 8b) or zstd"
                  + " (28 b5 2f fd)");
        }
      }
      return new Opened(text, format, head, headLen);
    } catch (NoSuchFileException e) {
      closeQuietly(file);
      throw new IllegalArgumentException(what + " cannot be read: no such file", e);
    } catch (IOException e) {
      closeQuietly(file);
      throw unreadable(path, e);
    } catch (RuntimeException e) {
      closeQuietly(file);
      throw e;
    }
  }

  /**
   * The error for an I/O failure while opening or reading {@code path}, in words: the caller's file
   * (an {@link IllegalArgumentException}), or, when the system ran out of open files, the
   * environment's (an {@link UncheckedIOException}, which the CLI reports with exit code 3).
   */
  static RuntimeException unreadable(Path path, IOException e) {
    String msg = "lackey trace " + path + " cannot be read: " + IoErrors.describe(e);
    if (IoErrors.describe(e).toLowerCase(Locale.ROOT).contains("too many open files")) {
      return new UncheckedIOException(
          msg
              + " (each vCPU replays the trace through its own open file): raise the limit with"
              + " `ulimit -n`, or run fewer vCPUs",
          e);
    }
    return new IllegalArgumentException(msg, e);
  }

  /** A gzip stream whose header and data failures say "gzip data truncated or corrupt". */
  private static InputStream gzip(InputStream file) throws IOException {
    try {
      return new Decompressed(new GZIPInputStream(file, FILE_BUFFER), Format.GZIP);
    } catch (EOFException | ZipException e) {
      throw Decompressed.corrupt(Format.GZIP, e);
    }
  }

  /**
   * A decompressing stream whose format errors (a truncated or corrupt stream) are reported as
   * such, with the library's words after a colon, not as the library's words alone ("unexpected end
   * of ZLIB input stream", "truncated source").
   */
  private static final class Decompressed extends FilterInputStream {
    private final Format format;

    Decompressed(InputStream in, Format format) {
      super(in);
      this.format = format;
    }

    static IOException corrupt(Format format, IOException e) {
      String name = format == Format.GZIP ? "gzip" : "zstd";
      String lib =
          e.getMessage() == null || e.getMessage().isBlank() ? "" : ": " + IoErrors.describe(e);
      return new IOException(name + " data truncated or corrupt" + lib, e);
    }

    private IOException translate(IOException e) {
      if (e instanceof EOFException
          || e instanceof ZipException
          || e.getClass().getName().startsWith("com.github.luben.zstd.")) {
        return corrupt(format, e);
      }
      return e;
    }

    @Override
    public int read() throws IOException {
      try {
        return super.read();
      } catch (IOException e) {
        throw translate(e);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return super.read(b, off, len);
      } catch (IOException e) {
        throw translate(e);
      }
    }
  }

  /** An opened trace: its text, its format and the file's first bytes (for messages). */
  record Opened(InputStream text, Format format, byte[] head, int headLen) {
    String headHex() {
      return hex(head, headLen);
    }
  }

  /** True for a control byte no text trace holds: all below 0x20 but tab, LF, CR; and DEL. */
  static boolean isBinary(byte b) {
    int c = b & 0xff;
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f;
  }

  /** {@code bytes[0..n)} as space-separated lower-case hex pairs ("(empty)" when none). */
  static String hex(byte[] bytes, int n) {
    if (n == 0) {
      return "(empty)";
    }
    StringBuilder sb = new StringBuilder(n * 3);
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        sb.append(' ');
      }
      sb.append(Character.forDigit((bytes[i] >> 4) & 0xf, 16))
          .append(Character.forDigit(bytes[i] & 0xf, 16));
    }
    return sb.toString();
  }

  private static void closeQuietly(InputStream in) {
    if (in != null) {
      try {
        in.close();
      } catch (IOException ignored) {
        // the open already failed; that failure is the one reported
      }
    }
  }
}
