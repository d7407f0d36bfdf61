package org.mmumesh.workload;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import org.mmumesh.common.Access;

/**
 * Reads the accesses of a Valgrind Lackey trace one at a time from a byte stream, in constant
 * memory: the format and its rules are {@link LackeyTrace}'s. Bytes are ISO-8859-1; lines end at
 * LF, CR or CR LF (as {@link java.io.BufferedReader#readLine} splits them, so line numbers are the
 * ones an editor shows). An {@code M} record yields two accesses, a load then a store, with the
 * same line number; {@code SB} lines ({@code --trace-superblocks=yes}) and valgrind messages yield
 * none.
 *
 * <p>A malformed line fails with an {@link IllegalArgumentException} naming the source, the line
 * number, the line (sanitized: control bytes shown as {@code \xNN}, cut at {@link #SHOWN_CHARS}
 * characters) and what was expected. A line longer than {@link #MAX_LINE_BYTES} is malformed unless
 * it is a valgrind message, so memory stays bounded on any input.
 *
 * <p>Not thread-safe; closing closes the stream.
 */
final class LackeyReader implements Closeable {
  /** The longest line kept (Lackey's own lines hold at most about 30 bytes). */
  static final int MAX_LINE_BYTES = 4096;

  /** How many characters of a malformed line an error shows. */
  static final int SHOWN_CHARS = 200;

  static final byte LOAD = (byte) Access.LOAD.ordinal();
  static final byte STORE = (byte) Access.STORE.ordinal();
  static final byte IFETCH = (byte) Access.IFETCH.ordinal();

  private static final String EXPECTED_RECORD =
      "expected an instruction record 'I  <hex address>,<size>', a data record"
          + " ' L|S|M <hex address>,<size>', a superblock line 'SB <hex address>', or a valgrind"
          + " message starting with '=='";

  private final InputStream in;
  private final String source;
  private final String firstBytesHex;
  private final byte[] buf = new byte[1 << 16];
  private int pos;
  private int lim;
  private boolean eof;
  private boolean skipLf;
  private final byte[] line = new byte[MAX_LINE_BYTES];
  private int len;
  private boolean overlong;
  private long lineNo;
  private boolean recordSeen;

  private boolean pendingStore;
  private byte kind;
  private long address;
  private int size;

  /**
   * A reader of {@code in}; {@code source} names it in errors. {@code firstBytesHex}, if not null,
   * is shown when the first record line is malformed (the file may not be a trace at all).
   */
  LackeyReader(InputStream in, String source, String firstBytesHex) {
    this.in = in;
    this.source = source;
    this.firstBytesHex = firstBytesHex;
  }

  /**
   * Advances to the next access; false at the end of the trace.
   *
   * @throws IllegalArgumentException on a malformed line
   */
  boolean next() throws IOException {
    if (pendingStore) {
      pendingStore = false;
      kind = STORE;
      return true;
    }
    while (readLine()) {
      if (parseLine()) {
        recordSeen = true;
        return true;
      }
    }
    return false;
  }

  /** The kind of the current access ({@link Access} ordinal). */
  byte kind() {
    return kind;
  }

  /** The 64-bit address of the current access. */
  long address() {
    return address;
  }

  /** The size in bytes of the current access, 1 to 4096. */
  int size() {
    return size;
  }

  /** The 1-based line of the current access. */
  long lineNumber() {
    return lineNo;
  }

  /** The source's name, as errors show it. */
  String source() {
    return source;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }

  /** Reads the next line into {@code line[0..len)}; false at the end of the stream. */
  private boolean readLine() throws IOException {
    len = 0;
    overlong = false;
    boolean any = false;
    while (true) {
      if (pos == lim) {
        if (eof) {
          if (any) {
            lineNo++;
          }
          return any;
        }
        int n = in.read(buf, 0, buf.length);
        if (n < 0) {
          eof = true;
          continue;
        }
        pos = 0;
        lim = n;
        continue;
      }
      byte b = buf[pos++];
      if (skipLf) {
        skipLf = false;
        if (b == '\n') {
          continue;
        }
      }
      if (b == '\n' || b == '\r') {
        skipLf = b == '\r';
        lineNo++;
        return true;
      }
      any = true;
      if (len < MAX_LINE_BYTES) {
        line[len++] = b;
      } else {
        overlong = true;
      }
    }
  }

  /** Parses {@code line}; true if it holds an access (now current), false if it is skipped. */
  private boolean parseLine() {
    int end = len;
    if (!overlong) {
      while (end > 0 && isTrailingSpace(line[end - 1])) {
        end--;
      }
    }
    if (end == 0) {
      return false;
    }
    byte c0 = line[0];
    if (end >= 2 && isMessagePrefix(c0) && line[1] == c0) {
      return false;
    }
    if (overlong) {
      throw error("expected a line of at most " + MAX_LINE_BYTES + " bytes; " + EXPECTED_RECORD);
    }
    if (end < 3) {
      throw error(EXPECTED_RECORD);
    }
    byte c1 = line[1];
    byte c2 = line[2];
    boolean modify = false;
    if (c0 == 'I' && c1 == ' ' && c2 == ' ') {
      kind = IFETCH;
    } else if (c0 == ' ' && c2 == ' ' && (c1 == 'L' || c1 == 'S' || c1 == 'M')) {
      kind = c1 == 'S' ? STORE : LOAD;
      modify = c1 == 'M';
    } else if (c0 == 'S' && c1 == 'B' && c2 == ' ') {
      checkSuperblock(end);
      return false;
    } else {
      throw error(EXPECTED_RECORD);
    }
    int comma = -1;
    for (int i = 3; i < end; i++) {
      if (line[i] == ',') {
        comma = i;
        break;
      }
    }
    if (comma < 0) {
      throw error("expected '<hex address>,<size>' after the record kind; no ',' found");
    }
    int digits = comma - 3;
    if (digits < 1 || digits > 16) {
      throw error("expected a hex address of 1 to 16 digits before ','");
    }
    long a = 0;
    for (int i = 3; i < comma; i++) {
      int d = Character.digit(line[i] & 0xff, 16);
      if (d < 0) {
        throw error("expected a hex address of 1 to 16 digits (0-9, a-f) before ','");
      }
      a = (a << 4) | d;
    }
    int sizeDigits = end - comma - 1;
    if (sizeDigits < 1 || sizeDigits > 4) {
      throw error("expected a decimal size of 1 to 4096 bytes after ','");
    }
    int s = 0;
    for (int i = comma + 1; i < end; i++) {
      byte ch = line[i];
      if (ch < '0' || ch > '9') {
        throw error("expected a decimal size of 1 to 4096 bytes after ','");
      }
      s = s * 10 + (ch - '0');
    }
    if (s < 1 || s > MmuKind.PAGE_BYTES) {
      throw error("expected a decimal size of 1 to 4096 bytes after ','");
    }
    if (Long.compareUnsigned(a, -1L - (s - 1)) > 0) {
      throw error("expected an access within the 64-bit address space; it runs past 2^64");
    }
    address = a;
    size = s;
    pendingStore = modify;
    return true;
  }

  /** Checks an {@code SB <hex address>} superblock line (skipped: not an access). */
  private void checkSuperblock(int end) {
    int digits = end - 3;
    boolean ok = digits >= 1 && digits <= 16;
    for (int i = 3; ok && i < end; i++) {
      ok = Character.digit(line[i] & 0xff, 16) >= 0;
    }
    if (!ok) {
      throw error("expected a superblock line 'SB <hex address>' with 1 to 16 hex digits");
    }
  }

  private static boolean isTrailingSpace(byte c) {
    return c == ' ' || c == '\t' || c == '\r';
  }

  private static boolean isMessagePrefix(byte c) {
    return c == '=' || c == '-' || c == '*';
  }

  private IllegalArgumentException error(String expected) {
    String hint =
        recordSeen || firstBytesHex == null
            ? ""
            : " (no record read yet: is this a Lackey trace? its first bytes are "
                + firstBytesHex
                + ")";
    return new IllegalArgumentException(
        "lackey trace "
            + source
            + " line "
            + lineNo
            + ": \""
            + sanitize(line, len, SHOWN_CHARS)
            + "\""
            + (overlong ? "..." : "")
            + ": "
            + expected
            + hint);
  }

  /**
   * {@code bytes[0..n)} as ISO-8859-1 text safe for a terminal: control bytes (below 0x20, DEL and
   * 0x80-0x9f), and the backslash, shown as {@code \xNN}; cut at {@code max} characters with "...".
   */
  static String sanitize(byte[] bytes, int n, int max) {
    StringBuilder sb = new StringBuilder(Math.min(n, max) + 8);
    for (int i = 0; i < n; i++) {
      if (sb.length() >= max) {
        sb.append("...");
        break;
      }
      int c = bytes[i] & 0xff;
      if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == '\\') {
        sb.append("\\x")
            .append(Character.forDigit(c >> 4, 16))
            .append(Character.forDigit(c & 0xf, 16));
      } else {
        sb.append((char) c);
      }
    }
    return sb.toString();
  }
}
