package org.mmumesh.hostmmu;

import org.mmumesh.checkpoint.v1.HostMmuState;
import org.mmumesh.common.GuestPte;
import org.mmumesh.common.PageSize;

/**
 * Not a test: a VM of {@code vcpus} vCPUs on the default 64-bit host HTAB (16 Ki PTEGs), each vCPU
 * having mapped {@code pages} distinct pages (evictions included), checkpointed and restored;
 * prints the state's size and the best of three rounds. Run with the module's test classpath.
 */
public final class HostMmuCheckpointMicrocheck {
  private HostMmuCheckpointMicrocheck() {}

  public static void main(String[] args) throws Exception {
    int vcpus = args.length > 0 ? Integer.parseInt(args[0]) : 4;
    int pages = args.length > 1 ? Integer.parseInt(args[1]) : 30000;
    HostMmuCore core = new HostMmuCore(HostMmuConfig.host64(vcpus));
    for (int v = 0; v < vcpus; v++) {
      for (int p = 0; p < pages; p++) {
        long ea = ((long) (p >>> 16) << 28) | ((long) (p & 0xFFFF) << 12);
        long gvsid = 0x100 + (p >>> 16);
        long vpage = (gvsid << 16) | (p & 0xFFFF);
        GuestPte pte = new GuestPte(ea, vpage, (long) p << 12, true, true, true, PageSize.SIZE_4K);
        core.mapPage(v, pte, gvsid, 1000 + p, (p & 1) == 0);
      }
    }
    long[] best = {Long.MAX_VALUE, Long.MAX_VALUE};
    int size = 0;
    for (int round = 0; round < 3; round++) {
      long t0 = System.nanoTime();
      HostMmuState s = core.checkpoint();
      long t1 = System.nanoTime();
      byte[] b = s.toByteArray();
      HostMmuCore copy = HostMmuCore.restore(HostMmuState.parseFrom(b), core.config());
      long t2 = System.nanoTime();
      if (copy.cacheCount() != core.cacheCount()) {
        throw new IllegalStateException("restore lost entries");
      }
      size = b.length;
      best[0] = Math.min(best[0], t1 - t0);
      best[1] = Math.min(best[1], t2 - t1);
    }
    System.out.printf(
        "%d vCPUs x %d pages: %d live cache entries, %d valid HPTEs; state %.1f MiB; checkpoint %.0f"
            + " ms, serialise + parse + restore (with invariant check) %.0f ms%n",
        vcpus,
        pages,
        core.cacheCount(),
        core.htab().validCount(),
        size / 1048576.0,
        best[0] / 1e6,
        best[1] / 1e6);
  }
}
