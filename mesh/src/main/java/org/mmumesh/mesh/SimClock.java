package org.mmumesh.mesh;

import java.util.Map;
import org.mmumesh.engine.SimCosts;

/**
 * The sequential engine's simulated clock, recomputed from counters (the mesh's one implementation
 * of the cost formula; the engine adds the same costs event by event in {@code SequentialEngine},
 * which has no public helper for it, and {@code engine} is not this module's to change).
 *
 * <p>The engine charges, per event: a TLB hit {@code tlbHitNs}; a TLB miss that hits a host HPTE
 * {@code htabHitNs}; every exit (NOHPTE, PROTFAULT, NOEXEC) {@code exitNs}; every {@code Xlate}
 * step of the fault handler {@code faultNs}; every reflected exception {@code reflectNs}; every
 * MMIO exit {@code mmioNs}; every COW break during {@code gfn_to_pfn_prot} {@code pageCopyNs}.
 * {@code PageFaultHandler.onFault} asks for exactly one {@code Xlate} per exit, except when it
 * reflects the exit raw at once ({@code REFLECTED_RAW}), so the Xlate steps are {@code exits -
 * REFLECTED_RAW}. The clock is a sum, so it is a linear function of the counters: at the end of a
 * lockstep round (every vCPU idle) it equals the engine's {@code clock} at the same point whenever
 * the counters are equal. ksmd's work ({@code ksmPageVisitNs}) runs on another host CPU and is not
 * part of the clock (as in the engine).
 */
final class SimClock {
  private SimClock() {}

  /**
   * The simulated nanoseconds of counters {@code c} (names of {@code org.mmumesh.engine.Stat}, as
   * {@code VcpuCounters.toMap()} gives them; absent names count 0) and {@code cowBreaks} COW breaks
   * during the run.
   */
  static long nanos(SimCosts costs, Map<String, Long> c, long cowBreaks) {
    long exits = get(c, "NOHPTE_EXITS") + get(c, "PROTFAULT_EXITS") + get(c, "NOEXEC_EXITS");
    long xlates = exits - get(c, "REFLECTED_RAW");
    return get(c, "TLB_HITS") * costs.tlbHitNs()
        + get(c, "HTAB_HITS") * costs.htabHitNs()
        + exits * costs.exitNs()
        + xlates * costs.faultNs()
        + (get(c, "REFLECTED_DSI") + get(c, "REFLECTED_ISI")) * costs.reflectNs()
        + get(c, "MMIO_EXITS") * costs.mmioNs()
        + cowBreaks * costs.pageCopyNs();
  }

  private static long get(Map<String, Long> c, String name) {
    Long v = c.get(name);
    return v == null ? 0 : v;
  }
}
