package org.mmumesh.engine;

import org.mmumesh.common.Checks;

/**
 * What each simulated event costs in simulated nanoseconds. A run's simulated duration is the sum
 * over the vCPUs' events (one host CPU, vCPUs interleaved); KSM's scanning runs on its own CPU and
 * is paced by {@code sleep_millisecs} of that same clock, so its scan rate relates to guest
 * activity as on a real host.
 *
 * @param tlbHitNs an access that hits the vCPU TLB
 * @param htabHitNs an access that misses the TLB but hits a host HPTE
 * @param exitNs one guest exit and re-entry (the world switch)
 * @param faultNs handle_pagefault's own work (xlate, gfn-to-pfn, map)
 * @param reflectNs the guest kernel handling a reflected exception
 * @param pageCopyNs copying a page (COW break)
 * @param mmioNs emulating an MMIO access in the host
 */
public record SimCosts(
    long tlbHitNs,
    long htabHitNs,
    long exitNs,
    long faultNs,
    long reflectNs,
    long pageCopyNs,
    long mmioNs) {

  public SimCosts {
    Checks.inRange("tlbHitNs", tlbHitNs, 0, 1_000_000_000L);
    Checks.inRange("htabHitNs", htabHitNs, 0, 1_000_000_000L);
    Checks.inRange("exitNs", exitNs, 0, 1_000_000_000L);
    Checks.inRange("faultNs", faultNs, 0, 1_000_000_000L);
    Checks.inRange("reflectNs", reflectNs, 0, 1_000_000_000L);
    Checks.inRange("pageCopyNs", pageCopyNs, 0, 1_000_000_000L);
    Checks.inRange("mmioNs", mmioNs, 0, 1_000_000_000L);
  }

  /** Round figures for a 2013 POWER7 host: a TLB hit 1 ns, an exit 1 us, a page copy 1 us. */
  public static SimCosts defaults() {
    return new SimCosts(1, 20, 1_000, 2_000, 3_000, 1_000, 5_000);
  }
}
