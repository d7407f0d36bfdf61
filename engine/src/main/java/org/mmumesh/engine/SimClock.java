package org.mmumesh.engine;

import org.mmumesh.common.Counter;
import org.mmumesh.common.Counts;

/**
 * The simulated clock of a run, the one formula both engines use: a function of the vCPUs' counters
 * ({@link Counter}, summed over the vCPUs) and the COW breaks of their faults, so it is computed
 * from the same events in the sequential engine and the actor mesh.
 *
 * <p>Per event ({@link SimCosts}): a TLB hit {@code tlbHitNs}; a TLB miss that hits a host HPTE
 * {@code htabHitNs}; every exit (NOHPTE, PROTFAULT, NOEXEC) {@code exitNs}; every {@code Xlate}
 * step of the fault handler {@code faultNs}; every reflected exception {@code reflectNs}; every
 * MMIO exit {@code mmioNs}; every COW break during {@code gfn_to_pfn_prot} {@code pageCopyNs}.
 * {@code PageFaultHandler.onFault} asks for exactly one {@code Xlate} per exit, except when it
 * reflects the exit raw at once ({@code REFLECTED_RAW}), so the Xlate steps are {@code exits -
 * REFLECTED_RAW}. One host CPU runs the vCPUs interleaved, so the clock is the sum over them.
 * ksmd's work ({@code ksmPageVisitNs}) runs on another host CPU and is not part of it.
 */
public final class SimClock {
  private SimClock() {}

  /** The simulated nanoseconds of counters {@code c} and {@code cowBreaks} COW breaks. */
  public static long nanos(SimCosts costs, Counts c, long cowBreaks) {
    return nanos(costs, c.values(), cowBreaks);
  }

  /**
   * The simulated nanoseconds of counter vector {@code c} (one value per {@link Counter}, by
   * ordinal) and {@code cowBreaks} COW breaks.
   */
  public static long nanos(SimCosts costs, long[] c, long cowBreaks) {
    long exits =
        c[Counter.NOHPTE_EXITS.ordinal()]
            + c[Counter.PROTFAULT_EXITS.ordinal()]
            + c[Counter.NOEXEC_EXITS.ordinal()];
    long xlates = exits - c[Counter.REFLECTED_RAW.ordinal()];
    return c[Counter.TLB_HITS.ordinal()] * costs.tlbHitNs()
        + c[Counter.HTAB_HITS.ordinal()] * costs.htabHitNs()
        + exits * costs.exitNs()
        + xlates * costs.faultNs()
        + (c[Counter.REFLECTED_DSI.ordinal()] + c[Counter.REFLECTED_ISI.ordinal()])
            * costs.reflectNs()
        + c[Counter.MMIO_EXITS.ordinal()] * costs.mmioNs()
        + cowBreaks * costs.pageCopyNs();
  }
}
