package org.mmumesh.workload;

import java.util.Optional;
import org.mmumesh.common.Checks;

/**
 * The built-in workloads (spec 10: "workloads are streams of loads, stores and instruction
 * fetches"). Each returns a {@link WorkloadSpec}; all are deterministic in their seed.
 *
 * <ul>
 *   <li>{@link #identicalGuests}: N guests booted from one image, so all their memory starts
 *       mergeable by KSM, then a read-mostly phase ({@link ReadMostlyPhase}). This is the workload
 *       the change is about (spec 1.2): under {@code legacy} every guest read breaks sharing.
 *   <li>{@link #uniformRandom}: uniform loads and stores over all of zeroed guest memory.
 *   <li>{@link #traceReplay}: every vCPU of every VM replays one folded Valgrind Lackey trace.
 * </ul>
 */
public final class Workloads {
  private Workloads() {}

  /**
   * Identical guests: every VM boots from {@code image} (at most {@code pages} pages), then each
   * vCPU runs {@code phase}, with independent per-(vm, vcpu) random streams.
   *
   * @throws IllegalArgumentException if {@code phase.workingSetPages() > pages} or any argument is
   *     out of range
   */
  public static WorkloadSpec identicalGuests(
      String name,
      int vms,
      int vcpus,
      long pages,
      MmuKind mmu,
      GuestImage image,
      ReadMostlyPhase phase,
      long seed) {
    return randomPhase(name, vms, vcpus, pages, mmu, Optional.of(image), phase, seed);
  }

  /**
   * Uniform random loads and stores over all {@code pages} pages of zeroed guest memory, {@code
   * readFraction} of them loads, {@code accessesPerVcpu} per vCPU, no instruction fetches.
   */
  public static WorkloadSpec uniformRandom(
      String name,
      int vms,
      int vcpus,
      long pages,
      MmuKind mmu,
      double readFraction,
      long accessesPerVcpu,
      long seed) {
    ReadMostlyPhase phase =
        new ReadMostlyPhase(readFraction, pages, Locality.UNIFORM, 0.0, accessesPerVcpu, 0.0);
    return randomPhase(name, vms, vcpus, pages, mmu, Optional.empty(), phase, seed);
  }

  /**
   * A random phase over memory that starts as {@code image} (or zero pages): the general form of
   * the two above.
   */
  public static WorkloadSpec randomPhase(
      String name,
      int vms,
      int vcpus,
      long pages,
      MmuKind mmu,
      Optional<GuestImage> image,
      ReadMostlyPhase phase,
      long seed) {
    mmu.checkPages("pages", pages);
    Checks.inRange("workingSetPages", phase.workingSetPages(), 1, pages);
    return new WorkloadSpec(
        name,
        vms,
        vcpus,
        pages,
        mmu,
        image,
        seed,
        (vm, vcpu) -> new RandomAccessSource(mmu, phase, seed, vm, vcpu));
  }

  /**
   * Every vCPU of every VM replays {@code trace} from its start. The trace must have been folded
   * into a window of at most {@code pages} pages based at {@code mmu.linearMapBase()}. Store values
   * (Lackey records none) derive from {@code seed} and the access index, so VMs stay identical to
   * each other.
   */
  public static WorkloadSpec traceReplay(
      String name, int vms, int vcpus, long pages, MmuKind mmu, ReplayableTrace trace, long seed) {
    mmu.checkPages("pages", pages);
    if (trace.windowBaseEa() != mmu.linearMapBase() || trace.windowPages() > pages) {
      throw new IllegalArgumentException(
          "trace: folded into a window of "
              + trace.windowPages()
              + " pages at 0x"
              + Long.toHexString(trace.windowBaseEa())
              + "; allowed at most pages ("
              + pages
              + ") at 0x"
              + Long.toHexString(mmu.linearMapBase()));
    }
    return new WorkloadSpec(
        name, vms, vcpus, pages, mmu, Optional.empty(), seed, (vm, vcpu) -> trace.source(seed));
  }
}
