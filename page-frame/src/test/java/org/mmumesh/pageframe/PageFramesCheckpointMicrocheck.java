package org.mmumesh.pageframe;

import org.mmumesh.checkpoint.v1.PageFramesState;

/**
 * Not a test: times {@link PageFrames#checkpoint()}, serialisation, parsing and {@link
 * PageFrames#restore} for a host whose guest pages each have a private frame (the worst case: no
 * zero-page or KSM sharing). Run from the module with its test classpath, e.g. {@code java -cp
 * target/classes:target/test-classes:$(cat cp.txt)
 * org.mmumesh.pageframe.PageFramesCheckpointMicrocheck 1048576}. Prints the sizes and the times of
 * the best of three rounds.
 */
public final class PageFramesCheckpointMicrocheck {
  private PageFramesCheckpointMicrocheck() {}

  public static void main(String[] args) throws Exception {
    int pages = args.length > 0 ? Integer.parseInt(args[0]) : 1 << 20;
    PageFrames pf = new PageFrames(1 << 15);
    pf.createVm(0);
    pf.addSlot(0, 0, 0, pages, 0, false);
    for (long g = 0; g < pages; g++) {
      pf.populate(0, g, g * 0x9E3779B97F4A7C15L);
    }
    long best = Long.MAX_VALUE;
    long bestSer = Long.MAX_VALUE;
    long bestParse = Long.MAX_VALUE;
    long bestRestore = Long.MAX_VALUE;
    long size = 0;
    for (int round = 0; round < 3; round++) {
      long t0 = System.nanoTime();
      PageFramesState s = pf.checkpoint();
      long t1 = System.nanoTime();
      byte[] bytes = s.toByteArray();
      long t2 = System.nanoTime();
      PageFramesState parsed = PageFramesState.parseFrom(bytes);
      long t3 = System.nanoTime();
      PageFrames copy = PageFrames.restore(parsed);
      long t4 = System.nanoTime();
      if (copy.framesAllocated() != pf.framesAllocated()) {
        throw new IllegalStateException("restore lost frames");
      }
      size = bytes.length;
      best = Math.min(best, t1 - t0);
      bestSer = Math.min(bestSer, t2 - t1);
      bestParse = Math.min(bestParse, t3 - t2);
      bestRestore = Math.min(bestRestore, t4 - t3);
    }
    System.out.printf(
        "pages %d: state %.1f MiB (%.1f bytes/page); checkpoint %.0f ms, toByteArray %.0f ms,"
            + " parseFrom %.0f ms, restore %.0f ms (incl. invariant recount)%n",
        pages,
        size / 1048576.0,
        size / (double) pages,
        best / 1e6,
        bestSer / 1e6,
        bestParse / 1e6,
        bestRestore / 1e6);
  }
}
