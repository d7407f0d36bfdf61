package org.mmumesh.ksm;

/**
 * A host-virtual range of one VM marked {@code madvise(MADV_MERGEABLE)} (spec 7.1): host pages
 * {@code [start, end)}. The region owns the rmap_item ids {@code [idBase, idBase + end - start)},
 * one per address, so items live in primitive arrays indexed by id (see {@link RmapItems}).
 */
final class MergeableRegion {
  final int vm;
  final long start;
  final long end;
  final int idBase;

  MergeableRegion(int vm, long start, long end, int idBase) {
    this.vm = vm;
    this.start = start;
    this.end = end;
    this.idBase = idBase;
  }

  int idOf(long hva) {
    return idBase + (int) (hva - start);
  }

  long hvaOf(int id) {
    return start + (id - idBase);
  }

  int idEnd() {
    return idBase + (int) (end - start);
  }
}
