package org.mmumesh.workload;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.mmumesh.common.Access;

/**
 * A Valgrind Lackey memory trace ({@code valgrind --tool=lackey --trace-mem=yes}), read whole into
 * compact arrays.
 *
 * <p><b>Format</b> (as Lackey 3.x prints it; addresses are hex without {@code 0x}, sizes decimal):
 *
 * <pre>
 * I  0401ab70,3         instruction fetch: 'I' in column 0, two spaces
 *  L 1fff000778,8       data load:  one space, 'L', one space
 *  S 1fff000770,8       data store
 *  M 04033e06,1         modify: a load then a store of the same address
 * ==3627== ...          valgrind message (also '--' and '**' prefixes): skipped
 * </pre>
 *
 * Empty lines are skipped; trailing spaces, tabs and a carriage return are ignored. An {@code M}
 * record becomes two accesses, {@link Access#LOAD} then {@link Access#STORE}, with the same line
 * number. Addresses are up to 16 hex digits (a 64-bit address); sizes 1 to 4096 bytes; an access
 * may not run past the end of the 64-bit address space.
 *
 * <p><b>Errors.</b> Reading is eager: the whole trace is parsed before a {@code LackeyTrace}
 * exists, so a malformed line fails the read before any access is returned. The {@link
 * IllegalArgumentException} names the source, the line number, the line text (cut at 200
 * characters) and what was expected.
 */
public final class LackeyTrace {
  /** The most accesses a trace may hold (array bound). */
  public static final int MAX_ACCESSES = Integer.MAX_VALUE - 8;

  private static final String EXPECTED_RECORD =
      "expected an instruction record 'I  <hex address>,<size>', a data record"
          + " ' L|S|M <hex address>,<size>', or a valgrind message starting with '=='";

  private static final byte LOAD = (byte) Access.LOAD.ordinal();
  private static final byte STORE = (byte) Access.STORE.ordinal();
  private static final byte IFETCH = (byte) Access.IFETCH.ordinal();
  private static final Access[] KINDS = Access.values();

  private final String source;
  private final byte[] kinds;
  private final long[] addresses;
  private final short[] sizes;
  private final int[] lines;

  private LackeyTrace(String source, byte[] kinds, long[] addresses, short[] sizes, int[] lines) {
    this.source = source;
    this.kinds = kinds;
    this.addresses = addresses;
    this.sizes = sizes;
    this.lines = lines;
  }

  /**
   * Reads the trace file at {@code path} (UTF-8 or ASCII).
   *
   * @throws IllegalArgumentException on a malformed line, or if the file cannot be read
   */
  public static LackeyTrace read(Path path) {
    try (BufferedReader r = Files.newBufferedReader(path, StandardCharsets.ISO_8859_1)) {
      return parse(r, path.toString());
    } catch (IOException | UncheckedIOException e) {
      throw new IllegalArgumentException("lackey trace path: " + path + " cannot be read: " + e, e);
    }
  }

  /** Parses trace {@code text}; {@code sourceName} appears in error messages. */
  public static LackeyTrace parse(String text, String sourceName) {
    try {
      return parse(new BufferedReader(new StringReader(text)), sourceName);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // cannot happen with a StringReader
    }
  }

  /** Parses the lines of {@code reader}; {@code sourceName} appears in error messages. */
  public static LackeyTrace parse(BufferedReader reader, String sourceName) throws IOException {
    Builder b = new Builder(sourceName);
    String line;
    int lineNo = 0;
    while ((line = reader.readLine()) != null) {
      lineNo++;
      b.parseLine(line, lineNo);
    }
    return b.build();
  }

  /** Where the trace came from. */
  public String sourceName() {
    return source;
  }

  /** The number of accesses (an {@code M} record counts two). */
  public int size() {
    return kinds.length;
  }

  /** The kind of access {@code i}. */
  public Access kind(int i) {
    return KINDS[kinds[i]];
  }

  /** The 64-bit user address of access {@code i}. */
  public long address(int i) {
    return addresses[i];
  }

  /** The size in bytes of access {@code i}. */
  public int sizeBytes(int i) {
    return sizes[i];
  }

  /** The 1-based line of the trace that access {@code i} came from. */
  public int lineNumber(int i) {
    return lines[i];
  }

  /**
   * Folds every access into {@code folding}'s window (first-touch renumbering, see {@link
   * AddressFolding}); accesses crossing a 4 KiB boundary are split per page. Eager: either the
   * whole trace folds or nothing is returned.
   *
   * @throws IllegalArgumentException naming the line whose page does not fit the window
   */
  public FoldedTrace fold(AddressFolding folding) {
    int n = kinds.length;
    byte[] fk = new byte[n];
    long[] fe = new long[n];
    short[] fs = new short[n];
    int m = 0;
    for (int i = 0; i < n; i++) {
      long addr = addresses[i];
      int remaining = sizes[i];
      while (remaining > 0) {
        int inPage = MmuKind.PAGE_BYTES - (int) (addr & (MmuKind.PAGE_BYTES - 1));
        int piece = Math.min(remaining, inPage);
        long ea;
        try {
          ea = folding.fold(addr);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "lackey trace "
                  + source
                  + " line "
                  + lines[i]
                  + ": "
                  + e.getMessage()
                  + "; raise pages or use a shorter trace",
              e);
        }
        if (m == fk.length) {
          int cap = (int) Math.min(MAX_ACCESSES, fk.length + (fk.length >> 1) + 16L);
          if (cap == m) {
            throw new IllegalArgumentException(
                "lackey trace "
                    + source
                    + ": more than "
                    + MAX_ACCESSES
                    + " accesses after splitting");
          }
          fk = Arrays.copyOf(fk, cap);
          fe = Arrays.copyOf(fe, cap);
          fs = Arrays.copyOf(fs, cap);
        }
        fk[m] = kinds[i];
        fe[m] = ea;
        fs[m] = (short) piece;
        m++;
        addr += piece;
        remaining -= piece;
      }
    }
    if (m != fk.length) {
      fk = Arrays.copyOf(fk, m);
      fe = Arrays.copyOf(fe, m);
      fs = Arrays.copyOf(fs, m);
    }
    return new FoldedTrace(
        source, fk, fe, fs, folding.windowBaseEa(), folding.windowPages(), folding.distinctPages());
  }

  /** Accumulates parsed records in growable arrays. */
  private static final class Builder {
    private final String source;
    private byte[] kinds = new byte[1024];
    private long[] addresses = new long[1024];
    private short[] sizes = new short[1024];
    private int[] lines = new int[1024];
    private int n;

    Builder(String source) {
      this.source = source;
    }

    void parseLine(String raw, int lineNo) {
      int end = raw.length();
      while (end > 0 && isTrailingSpace(raw.charAt(end - 1))) {
        end--;
      }
      if (end == 0) {
        return;
      }
      char c0 = raw.charAt(0);
      if (end >= 2 && isMessagePrefix(c0) && raw.charAt(1) == c0) {
        return;
      }
      if (end < 3) {
        throw error(raw, lineNo, EXPECTED_RECORD);
      }
      char c1 = raw.charAt(1);
      char c2 = raw.charAt(2);
      byte kind;
      boolean modify = false;
      if (c0 == 'I' && c1 == ' ' && c2 == ' ') {
        kind = IFETCH;
      } else if (c0 == ' ' && c2 == ' ' && (c1 == 'L' || c1 == 'S' || c1 == 'M')) {
        kind = c1 == 'S' ? STORE : LOAD;
        modify = c1 == 'M';
      } else {
        throw error(raw, lineNo, EXPECTED_RECORD);
      }
      int comma = raw.indexOf(',', 3);
      if (comma < 0 || comma >= end) {
        throw error(
            raw, lineNo, "expected '<hex address>,<size>' after the record kind; no ',' found");
      }
      int digits = comma - 3;
      if (digits < 1 || digits > 16) {
        throw error(raw, lineNo, "expected a hex address of 1 to 16 digits before ','");
      }
      long address = 0;
      for (int i = 3; i < comma; i++) {
        int d = Character.digit(raw.charAt(i), 16);
        if (d < 0) {
          throw error(
              raw, lineNo, "expected a hex address of 1 to 16 digits (0-9, a-f) before ','");
        }
        address = (address << 4) | d;
      }
      int sizeDigits = end - comma - 1;
      if (sizeDigits < 1 || sizeDigits > 4) {
        throw error(raw, lineNo, "expected a decimal size of 1 to 4096 bytes after ','");
      }
      int size = 0;
      for (int i = comma + 1; i < end; i++) {
        char ch = raw.charAt(i);
        if (ch < '0' || ch > '9') {
          throw error(raw, lineNo, "expected a decimal size of 1 to 4096 bytes after ','");
        }
        size = size * 10 + (ch - '0');
      }
      if (size < 1 || size > MmuKind.PAGE_BYTES) {
        throw error(raw, lineNo, "expected a decimal size of 1 to 4096 bytes after ','");
      }
      if (Long.compareUnsigned(address, -1L - (size - 1)) > 0) {
        throw error(
            raw, lineNo, "expected an access within the 64-bit address space; it runs past 2^64");
      }
      add(kind, address, size, lineNo);
      if (modify) {
        add(STORE, address, size, lineNo);
      }
    }

    private static boolean isTrailingSpace(char c) {
      return c == ' ' || c == '\t' || c == '\r';
    }

    private static boolean isMessagePrefix(char c) {
      return c == '=' || c == '-' || c == '*';
    }

    private void add(byte kind, long address, int size, int lineNo) {
      if (n == kinds.length) {
        if (n == MAX_ACCESSES) {
          throw new IllegalArgumentException(
              "lackey trace "
                  + source
                  + " line "
                  + lineNo
                  + ": more than "
                  + MAX_ACCESSES
                  + " accesses");
        }
        int cap = (int) Math.min(MAX_ACCESSES, n + (n >> 1) + 16L);
        kinds = Arrays.copyOf(kinds, cap);
        addresses = Arrays.copyOf(addresses, cap);
        sizes = Arrays.copyOf(sizes, cap);
        lines = Arrays.copyOf(lines, cap);
      }
      kinds[n] = kind;
      addresses[n] = address;
      sizes[n] = (short) size;
      lines[n] = lineNo;
      n++;
    }

    private IllegalArgumentException error(String line, int lineNo, String expected) {
      String shown = line.length() > 200 ? line.substring(0, 200) + "..." : line;
      return new IllegalArgumentException(
          "lackey trace " + source + " line " + lineNo + ": \"" + shown + "\": " + expected);
    }

    LackeyTrace build() {
      return new LackeyTrace(
          source,
          Arrays.copyOf(kinds, n),
          Arrays.copyOf(addresses, n),
          Arrays.copyOf(sizes, n),
          Arrays.copyOf(lines, n));
    }
  }
}
