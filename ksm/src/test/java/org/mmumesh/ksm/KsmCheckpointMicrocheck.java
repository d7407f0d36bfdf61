package org.mmumesh.ksm;

import org.mmumesh.checkpoint.v1.KsmState;
import org.mmumesh.checkpoint.v1.PageFramesState;
import org.mmumesh.pageframe.PageFrames;

/**
 * Not a test: a host of four identical guests ({@code pages} guest pages in all, the demo's shape)
 * after two full KSM passes, checkpointed and restored (frames, then ksmd); prints sizes and the
 * best of three rounds. Run with the module's test classpath, e.g. {@code java -Xmx4g -cp ...
 * org.mmumesh.ksm.KsmCheckpointMicrocheck 1048576}.
 */
public final class KsmCheckpointMicrocheck {
  private KsmCheckpointMicrocheck() {}

  public static void main(String[] args) throws Exception {
    int pages = args.length > 0 ? Integer.parseInt(args[0]) : 1 << 20;
    int perVm = pages / 4;
    PageFrames pf = new PageFrames(1 << 15);
    KsmScanner ksm = new KsmScanner(pf);
    for (int vm = 0; vm < 4; vm++) {
      pf.createVm(vm);
      pf.addSlot(vm, 0, 0, perVm, 0, false);
      for (long g = 0; g < perVm; g++) {
        pf.populate(vm, g, (g % 7 == 0) ? 0 : g * 0x9E3779B97F4A7C15L); // a seventh zero-filled
      }
      ksm.madviseMergeable(vm, 0, perVm);
    }
    ksm.setRun(KsmScanner.RUN_MERGE);
    ksm.setPagesToScan(perVm / 3);
    ksm.runFullScans(2);
    ksm.runBatch(); // a third of a pass: the unstable tree is populated
    System.out.printf(
        "pages %d: %d frames allocated, pages_shared %d, pages_sharing %d, rmap_items %d%n",
        pages, pf.framesAllocated(), ksm.pagesShared(), ksm.pagesSharing(), ksm.rmapItems());
    long[] best = {Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE};
    long pfBytes = 0;
    long ksmBytes = 0;
    for (int round = 0; round < 3; round++) {
      long t0 = System.nanoTime();
      PageFramesState ps = pf.checkpoint();
      KsmState ks = ksm.checkpoint();
      long t1 = System.nanoTime();
      byte[] pb = ps.toByteArray();
      byte[] kb = ks.toByteArray();
      long t2 = System.nanoTime();
      PageFramesState ps2 = PageFramesState.parseFrom(pb);
      KsmState ks2 = KsmState.parseFrom(kb);
      long t3 = System.nanoTime();
      PageFrames pf2 = PageFrames.restore(ps2);
      long t35 = System.nanoTime();
      KsmScanner ksm2 = KsmScanner.restore(ks2, pf2);
      long t4 = System.nanoTime();
      best[4] = Math.min(best[4], t35 - t3);
      if (ksm2.pagesSharing() != ksm.pagesSharing()) {
        throw new IllegalStateException("restore lost sharing");
      }
      pfBytes = pb.length;
      ksmBytes = kb.length;
      best[0] = Math.min(best[0], t1 - t0);
      best[1] = Math.min(best[1], t2 - t1);
      best[2] = Math.min(best[2], t3 - t2);
      best[3] = Math.min(best[3], t4 - t3);
    }
    System.out.printf(
        "frames state %.1f MiB, ksm state %.1f MiB (%.1f bytes/guest page in all); checkpoint %.0f"
            + " ms, toByteArray %.0f ms, parseFrom %.0f ms, restore %.0f ms (with recounts; frames %.0f ms)%n",
        pfBytes / 1048576.0,
        ksmBytes / 1048576.0,
        (pfBytes + ksmBytes) / (double) pages,
        best[0] / 1e6,
        best[1] / 1e6,
        best[2] / 1e6,
        best[3] / 1e6,
        best[4] / 1e6);
  }
}
