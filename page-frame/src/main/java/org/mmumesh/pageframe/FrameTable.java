package org.mmumesh.pageframe;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.PackedArrays;
import org.mmumesh.checkpoint.v1.FrameChunkState;
import org.mmumesh.checkpoint.v1.FrameTableState;
import org.mmumesh.common.Fingerprint;

/**
 * Host page frames of one simulated host, as parallel primitive arrays (no per-frame objects):
 * content fingerprint (8 bytes), map count = number of host PTEs pointing at the frame (4 bytes), a
 * generation bumped every time the frame is freed (4 bytes; lets KSM detect a stale stable node,
 * spec 7.6 "keyhole" check) and flags (1 byte): 17 bytes per frame.
 *
 * <p><b>Chunks.</b> The pfn space is cut into chunks of {@value #CHUNK} frames, pfn = chunk *
 * {@value #CHUNK} + index, so pfns never move. A chunk's arrays exist only while it holds an
 * allocated frame: when its last frame is freed the chunk is released (the memory of a booted host
 * whose pages KSM merged away goes back to the heap, issue 3). One released chunk's arrays are kept
 * as a spare so a frame freed and allocated again at a chunk boundary does not reallocate. The
 * first chunk starts small (the requested initial capacity) and doubles up to a full chunk.
 *
 * <p><b>Allocation</b> is deterministic: from the lowest chunk with room (released chunks have
 * room), inside it the most recently freed frame first (a LIFO free list per chunk, threaded
 * through the fingerprint array), otherwise the chunk's next never-used index. Frame {@link
 * #ZERO_PFN} is the shared zero page (content {@link Fingerprint#ZERO}); it is never freed, so the
 * first chunk is never released.
 *
 * <p><b>Generations across a release.</b> A released chunk remembers the largest generation any of
 * its frames reached; its frames start from that value when the chunk comes back, so a stale stable
 * node (recorded with an older generation) can never match a frame reallocated at the same pfn.
 *
 * <p>Pins (extra page references such as GUP / O_DIRECT, spec 7.4 step 1) are rare and kept in a
 * small map; a pinned frame is not freed when its last mapping goes away.
 *
 * <p><b>Checkpoint</b> ({@link #checkpoint()}, {@link #restore}): every chunk's arrays up to its
 * next never-used index (17 bytes per frame ever used; the free lists are threaded through the
 * fingerprints, so they come along), the per-chunk cursors and the pins. The directory's size and
 * the spare chunk are memory, not state: a restored table allocates the same pfns next.
 */
final class FrameTable {
  static final int ZERO_PFN = 0;
  static final byte F_FREE = 1;
  static final byte F_KSM = 2;
  static final byte F_ZERO = 4;

  /** Largest pfn the table can hold (host PTE encoding keeps pfn + 1 in 31 bits). */
  static final int MAX_PFN = Integer.MAX_VALUE - 2;

  /**
   * 32 Ki frames per chunk: a chunk's fingerprint array (256 KiB) stays below G1's humongous
   * threshold (half a region; regions are 1 MiB for heaps under 2 GiB), where a 64 Ki-frame one
   * (512 KiB + its header) would take a whole region and waste half of it.
   */
  static final int CHUNK_SHIFT = 15;

  /** Frames per chunk. */
  static final int CHUNK = 1 << CHUNK_SHIFT;

  private static final int MASK = CHUNK - 1;
  private static final int MAX_CHUNKS = (MAX_PFN >>> CHUNK_SHIFT) + 1;

  // Per chunk (null arrays: released or never used).
  private long[][] fingerprint;
  private int[][] mapCount;
  private int[][] generation;
  private byte[][] flags;
  private int[] live; // allocated frames
  private int[] freeHead; // local index of the most recently freed frame, -1 if none
  private int[] bump; // next never-used local index
  private int[] genBase; // generation of a never-used frame

  private int chunks; // chunk slots ever used
  private int firstRoom; // no chunk below this one has room
  private int top;
  private int allocated;
  private int chunksLive;
  private int chunksReleased;

  // One released chunk's arrays, kept for the next chunk created.
  private long[] spareFingerprint;
  private int[] spareMapCount;
  private int[] spareGeneration;
  private byte[] spareFlags;

  private final Map<Integer, Integer> pins = new HashMap<>();

  /** Set while a {@link FrameAudit} is attached: pfns whose state or map count changed. */
  org.mmumesh.common.DirtySet dirty;

  private void touched(int pfn) {
    if (dirty != null) {
      dirty.add(pfn);
    }
  }

  FrameTable(int initialCapacity) {
    int dir =
        (int) Math.min(MAX_CHUNKS, Math.max(4, ((long) initialCapacity + MASK) >>> CHUNK_SHIFT));
    fingerprint = new long[dir][];
    mapCount = new int[dir][];
    generation = new int[dir][];
    flags = new byte[dir][];
    live = new int[dir];
    freeHead = new int[dir];
    bump = new int[dir];
    genBase = new int[dir];
    chunks = 1;
    createChunk(0, Math.min(CHUNK, Math.max(16, initialCapacity)));
    // Frame 0: the shared zero page.
    bump[0] = 1;
    live[0] = 1;
    top = 1;
    allocated = 1;
    fingerprint[0][ZERO_PFN] = Fingerprint.ZERO;
    flags[0][ZERO_PFN] = F_ZERO;
  }

  /** Allocates a frame holding {@code content}; map count 0, no flags. */
  int alloc(long content) {
    int c = firstRoom;
    while (c < chunks && live[c] == chunkCapacity(c)) {
      c++;
    }
    if (c == chunks) {
      if (c == MAX_CHUNKS) {
        throw new IllegalStateException("host frames exhausted: " + allocated + " frames in use");
      }
      if (c == live.length) {
        growDirectory();
      }
      chunks++;
    }
    firstRoom = c;
    if (flags[c] == null) {
      createChunk(c, CHUNK);
    }
    long[] fp = fingerprint[c];
    int i = freeHead[c];
    if (i >= 0) {
      freeHead[c] = (int) fp[i];
    } else {
      i = bump[c]++;
      if (i == fp.length) {
        growChunk(c);
        fp = fingerprint[c];
      }
    }
    fp[i] = content;
    mapCount[c][i] = 0;
    flags[c][i] = 0;
    live[c]++;
    allocated++;
    int pfn = (c << CHUNK_SHIFT) | i;
    if (pfn >= top) {
      top = pfn + 1;
    }
    touched(pfn);
    return pfn;
  }

  private static int chunkCapacity(int c) {
    return c == MAX_CHUNKS - 1 ? (MAX_PFN & MASK) + 1 : CHUNK;
  }

  private void growDirectory() {
    int n = (int) Math.min(MAX_CHUNKS, live.length * 2L);
    fingerprint = Arrays.copyOf(fingerprint, n);
    mapCount = Arrays.copyOf(mapCount, n);
    generation = Arrays.copyOf(generation, n);
    flags = Arrays.copyOf(flags, n);
    live = Arrays.copyOf(live, n);
    freeHead = Arrays.copyOf(freeHead, n);
    bump = Arrays.copyOf(bump, n);
    genBase = Arrays.copyOf(genBase, n);
  }

  private void createChunk(int c, int size) {
    if (size == CHUNK && spareFlags != null) {
      fingerprint[c] = spareFingerprint;
      mapCount[c] = spareMapCount;
      generation[c] = spareGeneration;
      flags[c] = spareFlags;
      spareFingerprint = null;
      spareMapCount = null;
      spareGeneration = null;
      spareFlags = null;
    } else {
      fingerprint[c] = new long[size];
      mapCount[c] = new int[size];
      generation[c] = new int[size];
      flags[c] = new byte[size];
    }
    // never-used frames read as free, with the chunk's base generation; map counts are 0 (a frame
    // is only freed with map count 0)
    Arrays.fill(flags[c], F_FREE);
    Arrays.fill(generation[c], genBase[c]);
    live[c] = 0;
    bump[c] = 0;
    freeHead[c] = -1;
    chunksLive++;
  }

  /** Doubles a chunk created small (only the first one is), up to a full chunk. */
  private void growChunk(int c) {
    int old = flags[c].length;
    int n = Math.min(CHUNK, old * 2);
    fingerprint[c] = Arrays.copyOf(fingerprint[c], n);
    mapCount[c] = Arrays.copyOf(mapCount[c], n);
    generation[c] = Arrays.copyOf(generation[c], n);
    flags[c] = Arrays.copyOf(flags[c], n);
    Arrays.fill(flags[c], old, n, F_FREE);
    Arrays.fill(generation[c], old, n, genBase[c]);
  }

  /**
   * Frees {@code pfn}: bumps its generation, clears its flags, puts it on its chunk's free list;
   * releases the chunk if it was the chunk's last frame.
   */
  void free(int pfn) {
    if (pfn == ZERO_PFN || !isLive(pfn) || mapCount(pfn) != 0) {
      throw new IllegalStateException("cannot free pfn " + pfn);
    }
    int c = pfn >>> CHUNK_SHIFT;
    int i = pfn & MASK;
    touched(pfn);
    generation[c][i]++;
    flags[c][i] = F_FREE;
    fingerprint[c][i] = freeHead[c];
    freeHead[c] = i;
    allocated--;
    if (--live[c] == 0) {
      releaseChunk(c);
    }
    if (c < firstRoom) {
      firstRoom = c;
    }
  }

  private void releaseChunk(int c) {
    int[] gen = generation[c];
    int max = genBase[c];
    for (int i = 0, n = bump[c]; i < n; i++) {
      max = Math.max(max, gen[i]);
    }
    genBase[c] = max;
    if (spareFlags == null && flags[c].length == CHUNK) {
      spareFingerprint = fingerprint[c];
      spareMapCount = mapCount[c];
      spareGeneration = gen;
      spareFlags = flags[c];
    }
    fingerprint[c] = null;
    mapCount[c] = null;
    generation[c] = null;
    flags[c] = null;
    bump[c] = 0;
    freeHead[c] = -1;
    chunksLive--;
    chunksReleased++;
  }

  /** True if {@code pfn} names a frame that exists and is not free. */
  boolean isLive(int pfn) {
    if (pfn < 0 || pfn >= top) {
      return false;
    }
    byte[] f = flags[pfn >>> CHUNK_SHIFT];
    return f != null && (f[pfn & MASK] & F_FREE) == 0;
  }

  long fingerprint(int pfn) {
    return fingerprint[pfn >>> CHUNK_SHIFT][pfn & MASK];
  }

  void setFingerprint(int pfn, long content) {
    fingerprint[pfn >>> CHUNK_SHIFT][pfn & MASK] = content;
  }

  /** The map count; 0 for a frame of a released chunk. */
  int mapCount(int pfn) {
    int[] m = mapCount[pfn >>> CHUNK_SHIFT];
    return m == null ? 0 : m[pfn & MASK];
  }

  /** Increments the map count, returning the new value. */
  int incMap(int pfn) {
    touched(pfn);
    return ++mapCount[pfn >>> CHUNK_SHIFT][pfn & MASK];
  }

  /** Decrements the map count, returning the new value. */
  int decMap(int pfn) {
    touched(pfn);
    return --mapCount[pfn >>> CHUNK_SHIFT][pfn & MASK];
  }

  /** The generation; for a frame of a released chunk, the one it will start from. */
  int generation(int pfn) {
    int c = pfn >>> CHUNK_SHIFT;
    int[] g = generation[c];
    return g == null ? genBase[c] : g[pfn & MASK];
  }

  boolean isKsm(int pfn) {
    return (flags[pfn >>> CHUNK_SHIFT][pfn & MASK] & F_KSM) != 0;
  }

  boolean isZero(int pfn) {
    return pfn == ZERO_PFN;
  }

  /** True for a free frame, a never-used one and one of a released chunk. */
  boolean isFree(int pfn) {
    byte[] f = flags[pfn >>> CHUNK_SHIFT];
    return f == null || (f[pfn & MASK] & F_FREE) != 0;
  }

  void setKsm(int pfn) {
    touched(pfn);
    flags[pfn >>> CHUNK_SHIFT][pfn & MASK] |= F_KSM;
  }

  /**
   * True if a write through a mapping of {@code pfn} must copy first (do_wp_page): KSM pages are
   * never reused in place (spec 7.6), the zero page is shared by all, and a frame mapped more than
   * once is COW-shared.
   */
  boolean mustCopyOnWrite(int pfn) {
    int c = pfn >>> CHUNK_SHIFT;
    int i = pfn & MASK;
    return (flags[c][i] & (F_KSM | F_ZERO)) != 0 || mapCount[c][i] > 1;
  }

  int pinCount(int pfn) {
    return pins.getOrDefault(pfn, 0);
  }

  void pin(int pfn) {
    touched(pfn);
    pins.merge(pfn, 1, Integer::sum);
  }

  /** Drops a pin, returning the remaining pin count. */
  int unpin(int pfn) {
    int n = pinCount(pfn);
    if (n == 0) {
      throw new IllegalStateException("pfn " + pfn + " is not pinned");
    }
    touched(pfn);
    if (n == 1) {
      pins.remove(pfn);
    } else {
      pins.put(pfn, n - 1);
    }
    return n - 1;
  }

  /** One more than the highest pfn ever handed out; valid pfns are below it. */
  int top() {
    return top;
  }

  /** Frames not on a free list (the zero page included). */
  int allocated() {
    return allocated;
  }

  /** Frames the chunks currently held can hold (the spare not included). */
  long capacity() {
    long n = 0;
    for (int c = 0; c < chunks; c++) {
      if (flags[c] != null) {
        n += flags[c].length;
      }
    }
    return n;
  }

  /** Chunks whose arrays are held (holding at least one allocated frame). */
  int chunksLive() {
    return chunksLive;
  }

  /** Times a chunk was released because its last frame was freed. */
  int chunksReleased() {
    return chunksReleased;
  }

  // ---------------------------------------------------------------- checkpoint

  /** The table's state (pure: reads only). */
  FrameTableState checkpoint() {
    FrameTableState.Builder b =
        FrameTableState.newBuilder()
            .setTopPfn(top)
            .setAllocatedFrames(allocated)
            .setFirstRoomChunk(firstRoom)
            .setChunksLive(chunksLive)
            .setChunksReleased(chunksReleased);
    for (int c = 0; c < chunks; c++) {
      FrameChunkState.Builder cb =
          FrameChunkState.newBuilder()
              .setLiveFrames(live[c])
              .setFreeHeadIndex(freeHead[c])
              .setUsedFrames(bump[c])
              .setBaseGeneration(genBase[c]);
      if (flags[c] != null) {
        int n = bump[c];
        cb.setCapacityFrames(flags[c].length)
            .setFingerprints(PackedArrays.longs(fingerprint[c], 0, n))
            .setMapCounts(PackedArrays.ints(mapCount[c], 0, n))
            .setGenerations(PackedArrays.ints(generation[c], 0, n))
            .setFlags(PackedArrays.bytes(flags[c], 0, n));
      }
      b.addChunks(cb);
    }
    pins.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> b.addPinnedPfns(e.getKey()).addPinCounts(e.getValue()));
    return b.build();
  }

  /**
   * A table holding {@code s}, checked first: lengths, cursors and free lists must agree.
   *
   * @throws CheckpointMismatchException naming the inconsistent field and its allowed range
   */
  static FrameTable restore(FrameTableState s) {
    int n = s.getChunksCount();
    CheckpointMismatchException.checkRange("frame_table.chunks count", n, 1, MAX_CHUNKS);
    CheckpointMismatchException.checkRange(
        "frame_table.top_pfn", Integer.toUnsignedLong(s.getTopPfn()), 1, (long) n << CHUNK_SHIFT);
    CheckpointMismatchException.checkRange(
        "frame_table.first_room_chunk", Integer.toUnsignedLong(s.getFirstRoomChunk()), 0, n);
    FrameTable t = new FrameTable(16);
    int dir = Math.max(4, n);
    t.fingerprint = new long[dir][];
    t.mapCount = new int[dir][];
    t.generation = new int[dir][];
    t.flags = new byte[dir][];
    t.live = new int[dir];
    t.freeHead = new int[dir];
    t.bump = new int[dir];
    t.genBase = new int[dir];
    t.spareFingerprint = null;
    t.spareMapCount = null;
    t.spareGeneration = null;
    t.spareFlags = null;
    long allocated = 0;
    int chunksLive = 0;
    for (int c = 0; c < n; c++) {
      allocated += t.restoreChunk(c, s.getChunks(c));
      chunksLive += t.flags[c] != null ? 1 : 0;
    }
    t.chunks = n;
    t.top = s.getTopPfn();
    t.firstRoom = s.getFirstRoomChunk();
    t.allocated = s.getAllocatedFrames();
    t.chunksLive = s.getChunksLive();
    t.chunksReleased = s.getChunksReleased();
    if (allocated != t.allocated) {
      throw CheckpointMismatchException.of(
          "frame_table.allocated_frames", t.allocated, allocated + " (the chunks' live frames)");
    }
    if (chunksLive != t.chunksLive) {
      throw CheckpointMismatchException.of(
          "frame_table.chunks_live", t.chunksLive, chunksLive + " (chunks with arrays)");
    }
    if (t.flags[0] == null || t.bump[0] == 0 || t.flags[0][ZERO_PFN] != F_ZERO) {
      throw new CheckpointMismatchException(
          "frame_table.chunks[0]: pfn 0 must be the zero page (flags 4), allocated");
    }
    for (int c = 0; c < t.firstRoom; c++) {
      if (t.live[c] < chunkCapacity(c)) {
        throw new CheckpointMismatchException(
            "frame_table.first_room_chunk: " + t.firstRoom + " but chunk " + c + " has room");
      }
    }
    if (s.getPinnedPfnsCount() != s.getPinCountsCount()) {
      throw CheckpointMismatchException.of(
          "frame_table.pin_counts count", s.getPinCountsCount(), s.getPinnedPfnsCount());
    }
    for (int i = 0; i < s.getPinnedPfnsCount(); i++) {
      int pfn = s.getPinnedPfns(i);
      if (!t.isLive(pfn) || pfn == ZERO_PFN) {
        throw new CheckpointMismatchException(
            "frame_table.pinned_pfns[" + i + "]: " + pfn + " is not a live frame other than 0");
      }
      CheckpointMismatchException.checkRange(
          "frame_table.pin_counts[" + i + "]", s.getPinCounts(i), 1, Integer.MAX_VALUE);
      t.pins.put(pfn, s.getPinCounts(i));
    }
    return t;
  }

  /** Restores chunk {@code c}; returns its live frames. */
  private int restoreChunk(int c, FrameChunkState cs) {
    String f = "frame_table.chunks[" + c + "]";
    int cap = cs.getCapacityFrames();
    genBase[c] = cs.getBaseGeneration();
    if (cap == 0) {
      if (cs.getUsedFrames() != 0 || cs.getLiveFrames() != 0 || cs.getFreeHeadIndex() != -1) {
        throw new CheckpointMismatchException(
            f
                + ": a released chunk (capacity_frames 0) must have used_frames 0, live_frames 0"
                + " and free_head_index -1");
      }
      bump[c] = 0;
      live[c] = 0;
      freeHead[c] = -1;
      return 0;
    }
    CheckpointMismatchException.checkRange(
        f + ".capacity_frames", cap, c == 0 ? 16 : CHUNK, chunkCapacity(c));
    int used =
        (int)
            CheckpointMismatchException.checkRange(f + ".used_frames", cs.getUsedFrames(), 0, cap);
    int liveFrames =
        (int)
            CheckpointMismatchException.checkRange(f + ".live_frames", cs.getLiveFrames(), 1, used);
    CheckpointMismatchException.checkRange(
        f + ".free_head_index", cs.getFreeHeadIndex(), -1, used - 1L);
    PackedArrays.count(f + ".fingerprints", cs.getFingerprints(), Long.BYTES, used);
    PackedArrays.count(f + ".map_counts", cs.getMapCounts(), Integer.BYTES, used);
    PackedArrays.count(f + ".generations", cs.getGenerations(), Integer.BYTES, used);
    PackedArrays.count(f + ".flags", cs.getFlags(), 1, used);
    long[] fp = new long[cap];
    int[] mc = new int[cap];
    int[] gen = new int[cap];
    byte[] fl = new byte[cap];
    PackedArrays.readLongs(cs.getFingerprints(), fp, 0, used);
    PackedArrays.readInts(cs.getMapCounts(), mc, 0, used);
    PackedArrays.readInts(cs.getGenerations(), gen, 0, used);
    PackedArrays.readBytes(cs.getFlags(), fl, 0, used);
    Arrays.fill(fl, used, cap, F_FREE);
    Arrays.fill(gen, used, cap, cs.getBaseGeneration());
    int free = 0;
    for (int i = 0; i < used; i++) {
      byte x = fl[i];
      boolean ok = x == F_FREE || x == 0 || x == F_KSM || (x == F_ZERO && c == 0 && i == ZERO_PFN);
      if (!ok || (x == F_FREE && mc[i] != 0) || (c == 0 && i == ZERO_PFN && x != F_ZERO)) {
        throw new CheckpointMismatchException(
            f
                + ".flags["
                + i
                + "]: "
                + x
                + " (map count "
                + mc[i]
                + ") is not allowed there;"
                + " allowed 0, 1 (free, map count 0), 2 (KSM), 4 (the zero page, pfn 0 only)");
      }
      if (x == F_FREE) {
        free++;
      }
    }
    if (free != used - liveFrames) {
      throw CheckpointMismatchException.of(
          f + ".live_frames", liveFrames, used - free + " (not free)");
    }
    // the free list must visit every free frame once (no cycle, no live frame on it)
    int visited = 0;
    for (int i = cs.getFreeHeadIndex(); i >= 0; i = (int) fp[i]) {
      if (i >= used || fl[i] != F_FREE || ++visited > free) {
        throw new CheckpointMismatchException(
            f
                + ".fingerprints: the free list from free_head_index reaches index "
                + i
                + ", which is not a free frame below used_frames "
                + used
                + " (or loops)");
      }
    }
    if (visited != free) {
      throw new CheckpointMismatchException(
          f
              + ".free_head_index: the free list holds "
              + visited
              + " of the "
              + free
              + " free frames");
    }
    fingerprint[c] = fp;
    mapCount[c] = mc;
    generation[c] = gen;
    flags[c] = fl;
    bump[c] = used;
    live[c] = liveFrames;
    freeHead[c] = cs.getFreeHeadIndex();
    return liveFrames;
  }
}
