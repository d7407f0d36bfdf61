package org.mmumesh.workload;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.mmumesh.common.Access;

/**
 * A Valgrind Lackey memory trace ({@code valgrind --tool=lackey --trace-mem=yes}), read whole into
 * compact arrays: for small traces and tests. Workloads stream their trace instead ({@link
 * StreamedTrace}: memory bounded by the distinct pages, not the length); both parse lines with
 * {@link LackeyReader}.
 *
 * <p><b>Format</b> (as Lackey 3.x prints it; addresses are hex without {@code 0x}, sizes decimal):
 *
 * <pre>
 * I  0401ab70,3         instruction fetch: 'I' in column 0, two spaces
 *  L 1fff000778,8       data load:  one space, 'L', one space
 *  S 1fff000770,8       data store
 *  M 04033e06,1         modify: a load then a store of the same address
 * SB 04016bd0           superblock (--trace-superblocks=yes): skipped, not an access
 * ==3627== ...          valgrind message (also '--' and '**' prefixes): skipped
 * </pre>
 *
 * Empty lines are skipped; trailing spaces, tabs and a carriage return are ignored. An {@code M}
 * record becomes two accesses, {@link Access#LOAD} then {@link Access#STORE}, with the same line
 * number. Addresses are up to 16 hex digits (a 64-bit address); sizes 1 to 4096 bytes; an access
 * may not run past the end of the 64-bit address space.
 *
 * <p>A file may be plain text or compressed with gzip or zstd, told by its content ({@link
 * TraceInput}); a binary file is refused naming its first bytes in hex.
 *
 * <p><b>Errors.</b> Reading is eager: the whole trace is parsed before a {@code LackeyTrace}
 * exists, so a malformed line fails the read before any access is returned. The {@link
 * IllegalArgumentException} names the source, the line number, the line text (control bytes shown
 * as {@code \xNN}, cut at 200 characters) and what was expected.
 */
public final class LackeyTrace {
  /** The most accesses a trace may hold (array bound). */
  public static final int MAX_ACCESSES = Integer.MAX_VALUE - 8;

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
   * Reads the trace file at {@code path} (text, or gzip or zstd compressed).
   *
   * @throws IllegalArgumentException on a malformed line, a binary file, or if the file cannot be
   *     read
   */
  public static LackeyTrace read(Path path) {
    TraceInput.Opened opened = TraceInput.open(path);
    try (LackeyReader r = new LackeyReader(opened.text(), path.toString(), opened.headHex())) {
      return parse(r);
    } catch (IOException e) {
      throw TraceInput.unreadable(path, e);
    }
  }

  /** Parses trace {@code text} (as ISO-8859-1); {@code sourceName} appears in error messages. */
  public static LackeyTrace parse(String text, String sourceName) {
    InputStream in = new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1));
    try {
      return parse(new LackeyReader(in, sourceName, null));
    } catch (IOException e) {
      throw new UncheckedIOException(e); // cannot happen with a byte array
    }
  }

  private static LackeyTrace parse(LackeyReader reader) throws IOException {
    Builder b = new Builder(reader.source());
    while (reader.next()) {
      b.add(reader.kind(), reader.address(), reader.size(), reader.lineNumber());
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
        int piece = pieceBytes(addr, remaining);
        long ea;
        try {
          ea = folding.fold(addr);
        } catch (IllegalArgumentException e) {
          throw windowFull(source, lines[i], e);
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

  /**
   * The bytes of an access at {@code address} with {@code remaining} bytes left that lie in its 4
   * KiB page: accesses that straddle a page boundary are split per page.
   */
  static int pieceBytes(long address, int remaining) {
    int inPage = MmuKind.PAGE_BYTES - (int) (address & (MmuKind.PAGE_BYTES - 1));
    return Math.min(remaining, inPage);
  }

  /** The error for line {@code lineNo} touching a page past one of the folding's limits. */
  static IllegalArgumentException windowFull(String source, long lineNo, RuntimeException e) {
    return new IllegalArgumentException(
        "lackey trace " + source + " line " + lineNo + ": " + e.getMessage(), e);
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

    void add(byte kind, long address, int size, long lineNo) {
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
      lines[n] = (int) Math.min(Integer.MAX_VALUE, lineNo);
      n++;
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
