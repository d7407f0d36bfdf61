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
 * @param ksmPageVisitNs ksmd's work per page it visits (reported as ksmd CPU time; ksmd runs on
 *     another host CPU, so it does not delay the vCPUs)
 */
public record SimCosts(
    long tlbHitNs,
    long htabHitNs,
    long exitNs,
    long faultNs,
    long reflectNs,
    long pageCopyNs,
    long mmioNs,
    long ksmPageVisitNs) {

  public SimCosts {
    Checks.inRange("tlbHitNs", tlbHitNs, 0, 1_000_000_000L);
    Checks.inRange("htabHitNs", htabHitNs, 0, 1_000_000_000L);
    Checks.inRange("exitNs", exitNs, 0, 1_000_000_000L);
    Checks.inRange("faultNs", faultNs, 0, 1_000_000_000L);
    Checks.inRange("reflectNs", reflectNs, 0, 1_000_000_000L);
    Checks.inRange("pageCopyNs", pageCopyNs, 0, 1_000_000_000L);
    Checks.inRange("mmioNs", mmioNs, 0, 1_000_000_000L);
    Checks.inRange("ksmPageVisitNs", ksmPageVisitNs, 0, 1_000_000_000L);
  }

  /** Round figures for a 2013 POWER7 host: a TLB hit 1 ns, an exit 1 us, a page copy 1 us. */
  public static SimCosts defaults() {
    return new SimCosts(1, 20, 1_000, 2_000, 3_000, 1_000, 5_000, 200);
  }

  /** The names {@link #with(String, long)} accepts. */
  public static final java.util.List<String> NAMES =
      java.util.List.of("tlb", "htab", "exit", "fault", "reflect", "copy", "mmio", "ksm");

  /**
   * A copy with one cost changed, by its short name (tlb, htab, exit, fault, reflect, copy, mmio,
   * ksm).
   *
   * @throws IllegalArgumentException naming the allowed names or the allowed range
   */
  public SimCosts with(String name, long ns) {
    return switch (name) {
      case "tlb" ->
          new SimCosts(
              ns, htabHitNs, exitNs, faultNs, reflectNs, pageCopyNs, mmioNs, ksmPageVisitNs);
      case "htab" ->
          new SimCosts(
              tlbHitNs, ns, exitNs, faultNs, reflectNs, pageCopyNs, mmioNs, ksmPageVisitNs);
      case "exit" ->
          new SimCosts(
              tlbHitNs, htabHitNs, ns, faultNs, reflectNs, pageCopyNs, mmioNs, ksmPageVisitNs);
      case "fault" ->
          new SimCosts(
              tlbHitNs, htabHitNs, exitNs, ns, reflectNs, pageCopyNs, mmioNs, ksmPageVisitNs);
      case "reflect" ->
          new SimCosts(
              tlbHitNs, htabHitNs, exitNs, faultNs, ns, pageCopyNs, mmioNs, ksmPageVisitNs);
      case "copy" ->
          new SimCosts(tlbHitNs, htabHitNs, exitNs, faultNs, reflectNs, ns, mmioNs, ksmPageVisitNs);
      case "mmio" ->
          new SimCosts(
              tlbHitNs, htabHitNs, exitNs, faultNs, reflectNs, pageCopyNs, ns, ksmPageVisitNs);
      case "ksm" ->
          new SimCosts(tlbHitNs, htabHitNs, exitNs, faultNs, reflectNs, pageCopyNs, mmioNs, ns);
      default ->
          throw new IllegalArgumentException(
              "cost: '" + name + "' is not a cost; allowed: " + String.join(", ", NAMES));
    };
  }
}
