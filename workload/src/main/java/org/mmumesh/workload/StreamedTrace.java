package org.mmumesh.workload;

import java.io.IOException;
import java.nio.file.Path;
import org.mmumesh.common.Access;

/**
 * A Valgrind Lackey trace file replayed by streaming it from disk: memory is constant in the
 * trace's length; what is kept is the folding of its distinct pages ({@link AddressFolding}: about
 * 24 to 48 bytes per distinct page) and, per replaying vCPU, a reader's buffers. So a trace of
 * billions of lines replays in a small heap as long as its distinct pages fit the window.
 *
 * <p><b>Two passes.</b> {@link #scan} reads the whole trace once, before anything runs: it parses
 * every line (a malformed line, a binary file, a page past the window all fail here, naming the
 * file and line), folds every page by first touch and counts the accesses. Each {@link #source}
 * then reads the file again from its start (decompressing again, for gzip and zstd), opened on its
 * first {@link AccessSource#fill} and closed at its end, and looks every page up in the folding the
 * scan built (read-only from then on, so sources on several threads share it). The accesses, their
 * splitting at page boundaries and the store values are exactly {@link LackeyTrace#fold}'s and
 * {@link FoldedTrace#source}'s: a streamed replay equals the in-memory one.
 *
 * <p>The file must not change between the scan and the replays; a replay that finds it changed (a
 * page the scan never saw, a different count) fails naming the file.
 */
public final class StreamedTrace implements ReplayableTrace {
  private static final byte STORE = (byte) Access.STORE.ordinal();

  private final Path path;
  private final AddressFolding folding;
  private final long accesses;
  private final long lines;

  private StreamedTrace(Path path, AddressFolding folding, long accesses, long lines) {
    this.path = path;
    this.folding = folding;
    this.accesses = accesses;
    this.lines = lines;
  }

  /**
   * Reads the trace at {@code path} once: checks every line, folds its pages into {@code folding}
   * (which the trace then owns) and counts its accesses.
   *
   * @param allowEmpty whether a trace without any access (only valgrind messages, or empty) is
   *     accepted; if false it is an error "no accesses"
   * @throws IllegalArgumentException naming the file (and line): unreadable, binary, malformed,
   *     more distinct pages than the window holds, or no accesses when not allowed
   */
  public static StreamedTrace scan(Path path, AddressFolding folding, boolean allowEmpty) {
    TraceInput.Opened opened = TraceInput.open(path);
    String source = path.toString();
    long count = 0;
    long lineNo = 0;
    try (LackeyReader r = new LackeyReader(opened.text(), source, opened.headHex())) {
      while (r.next()) {
        long addr = r.address();
        int remaining = r.size();
        while (remaining > 0) {
          int piece = LackeyTrace.pieceBytes(addr, remaining);
          try {
            folding.fold(addr);
          } catch (IllegalArgumentException e) {
            throw LackeyTrace.windowFull(source, r.lineNumber(), e);
          }
          count++;
          addr += piece;
          remaining -= piece;
        }
      }
      lineNo = r.lineNumber();
    } catch (IOException e) {
      throw TraceInput.unreadable(path, e);
    }
    if (count == 0 && !allowEmpty) {
      throw new IllegalArgumentException(
          "lackey trace "
              + path
              + ": no accesses ("
              + lineNo
              + " lines, none an I, L, S or M record); expected a trace from valgrind"
              + " --tool=lackey --trace-mem=yes, or allow-empty=true to run it anyway");
    }
    return new StreamedTrace(path, folding, count, lineNo);
  }

  @Override
  public String sourceName() {
    return path.toString();
  }

  @Override
  public long accesses() {
    return accesses;
  }

  /** The number of lines the scan read. */
  public long lines() {
    return lines;
  }

  @Override
  public long windowBaseEa() {
    return folding.windowBaseEa();
  }

  @Override
  public long windowPages() {
    return folding.windowPages();
  }

  @Override
  public int distinctPages() {
    return folding.distinctPages();
  }

  @Override
  public AccessSource source(long seed) {
    return new Replay(ReplayableTrace.storeKey(seed));
  }

  /** One vCPU's replay: a reader opened on the first fill, closed at the end. */
  private final class Replay implements AccessSource {
    private final long storeKey;
    private LackeyReader reader;
    private boolean done;
    private long index;
    // The current trace access, split into pieces at page boundaries.
    private byte kind;
    private long addr;
    private int remaining;

    Replay(long storeKey) {
      this.storeKey = storeKey;
    }

    @Override
    public long expectedAccesses() {
      return accesses;
    }

    @Override
    public int fill(AccessBatch batch) {
      batch.clear();
      if (done) {
        return 0;
      }
      try {
        if (reader == null) {
          TraceInput.Opened opened = TraceInput.open(path);
          reader = new LackeyReader(opened.text(), path.toString(), opened.headHex());
        }
        int cap = batch.capacity();
        while (batch.size() < cap) {
          if (remaining == 0) {
            if (!reader.next()) {
              finish();
              break;
            }
            kind = reader.kind();
            addr = reader.address();
            remaining = reader.size();
          }
          int piece = LackeyTrace.pieceBytes(addr, remaining);
          long windowPage = folding.windowPageOf(addr >>> MmuKind.PAGE_SHIFT);
          if (windowPage < 0 || index >= accesses) {
            throw changed();
          }
          long ea =
              folding.windowBaseEa()
                  + (windowPage << MmuKind.PAGE_SHIFT)
                  + (addr & (MmuKind.PAGE_BYTES - 1));
          long v = kind == STORE ? ReplayableTrace.storeValue(storeKey, index) : 0L;
          batch.add(kind, ea, piece, v);
          index++;
          addr += piece;
          remaining -= piece;
        }
      } catch (IOException e) {
        closeQuietly();
        throw TraceInput.unreadable(path, e);
      } catch (RuntimeException e) {
        closeQuietly();
        throw e;
      }
      return batch.size();
    }

    private void finish() throws IOException {
      done = true;
      reader.close();
      if (index != accesses) {
        throw changed();
      }
    }

    private IllegalArgumentException changed() {
      done = true;
      return new IllegalArgumentException(
          "lackey trace "
              + path
              + " changed since it was read (line "
              + reader.lineNumber()
              + " differs); a trace file must stay as it is while it runs");
    }

    private void closeQuietly() {
      done = true;
      if (reader != null) {
        try {
          reader.close();
        } catch (IOException ignored) {
          // the failure being reported is the one that matters
        }
      }
    }
  }
}
