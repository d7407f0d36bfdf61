package org.mmumesh.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.mmumesh.common.Access;
import org.mmumesh.workload.AccessBatch;
import org.mmumesh.workload.AccessSource;
import org.mmumesh.workload.GuestImage;
import org.mmumesh.workload.MmuKind;
import org.mmumesh.workload.WorkloadSpec;

/** Hand-written access scripts for scenario tests: the same script on every vCPU of VM 0. */
final class Scripted {
  private Scripted() {}

  record Op(Access kind, long page, int offset, long value) {}

  static Op load(long page) {
    return new Op(Access.LOAD, page, 8, 0);
  }

  static Op store(long page, long value) {
    return new Op(Access.STORE, page, 8, value);
  }

  /** VM 0 runs {@code ops}; the other VMs run nothing. */
  static WorkloadSpec spec(MmuKind mmu, int vms, long pages, GuestImage image, List<Op> ops) {
    return new WorkloadSpec(
        "scripted",
        vms,
        1,
        pages,
        mmu,
        Optional.ofNullable(image),
        1,
        (vm, vcpu) -> vm == 0 ? source(mmu, ops) : source(mmu, List.of()));
  }

  static AccessSource source(MmuKind mmu, List<Op> ops) {
    List<Op> copy = new ArrayList<>(ops);
    return new AccessSource() {
      private int next;

      @Override
      public int fill(AccessBatch batch) {
        batch.clear();
        while (next < copy.size() && !batch.isFull()) {
          Op op = copy.get(next++);
          batch.add(op.kind(), mmu.eaOf(op.page(), op.offset()), mmu.wordBytes(), op.value());
        }
        return batch.size();
      }
    };
  }

  /** An image whose pages are all different (content {@code seed + page}). */
  static GuestImage unique(int pages, long seed) {
    long[] f = new long[pages];
    for (int i = 0; i < pages; i++) {
      f[i] = org.mmumesh.common.Fingerprint.avalanche(seed * 1_000_003L + i);
    }
    return GuestImage.of(f);
  }
}
