package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.List;
import org.mmumesh.common.Fingerprint;
import org.mmumesh.guestmmu.GuestHtab;
import org.mmumesh.pageframe.MemSlot;
import org.mmumesh.pageframe.PageFrames;

/** The sequential engine's end state in the mesh's {@code MeshResult} form, for the comparisons. */
final class EngineEndState {
  private EngineEndState() {}

  /** VM {@code vm}'s fingerprints of gfns 0 to {@code pages - 1} (zero for an unmapped gfn). */
  static long[] framesOf(PageFrames frames, int vm, long pages) {
    long[] fps = new long[(int) pages];
    for (int g = 0; g < fps.length; g++) {
      MemSlot slot = frames.slotOf(vm, g);
      int pfn = slot == null ? -1 : frames.ptePfn(vm, slot.hvaOf(g));
      fps[g] = pfn < 0 ? Fingerprint.ZERO : frames.frameFingerprint(pfn);
    }
    return fps;
  }

  /** The guest HTAB's non-zero words: {addresses, words}, as the mesh's DumpHtab answers. */
  static List<long[]> nonZeroWords(GuestHtab h) {
    List<Long> a = new ArrayList<>();
    List<Long> w = new ArrayList<>();
    for (long addr = h.origin(); addr < h.origin() + h.sizeBytes(); addr += h.wordBytes()) {
      long v = h.word(addr);
      if (v != 0) {
        a.add(addr);
        w.add(v);
      }
    }
    return List.of(
        a.stream().mapToLong(Long::longValue).toArray(),
        w.stream().mapToLong(Long::longValue).toArray());
  }
}
