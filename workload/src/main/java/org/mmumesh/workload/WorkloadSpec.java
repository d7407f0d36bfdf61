package org.mmumesh.workload;

import java.util.Objects;
import java.util.Optional;
import org.mmumesh.common.Checks;

/**
 * Everything a run needs to know about its guests and what they do: how many VMs and vCPUs, how
 * much guest memory, which MMU, what the memory initially holds, and a factory of per-vCPU access
 * streams. Built by {@link Workloads} or {@link WorkloadParser}; consumed by the engines.
 *
 * <p><b>Address window.</b> Every access a source produces lies in the guest linear-map window
 * {@code [linearMapBase(), windowEndEa())}: EA page {@code p} of the window is gfn {@code p} (see
 * {@link MmuKind}). The engines' guest kernel model must map it so.
 *
 * <p><b>Memory.</b> Each VM's guest memory is {@code pagesPerVm} pages. If {@code image} is
 * present, every VM's gfn {@code p < image.pages()} starts with the image's fingerprint {@code p}
 * (the same image for every VM, so KSM can merge across guests); all other pages start as zero
 * pages.
 *
 * <p><b>Determinism.</b> {@link #sourceFor(int, int)} returns a fresh source on each call; equal
 * arguments give identical streams. Streams depend only on the seed and the parameters.
 *
 * @param name a description of the workload; from {@link WorkloadParser} it is the canonical CLI
 *     string with every default filled in, so it replays the run
 * @param vms number of VMs, 1 to {@link #MAX_VMS}
 * @param vcpusPerVm vCPUs per VM, 1 to {@link #MAX_VCPUS}
 * @param pagesPerVm guest memory per VM in 4 KiB pages, 1 to {@link MmuKind#maxGuestPages()}
 * @param mmu the guest MMU kind
 * @param image the boot image, at most {@code pagesPerVm} pages, or empty for zeroed memory
 * @param seed the run seed
 * @param sources makes the source of vCPU {@code vcpu} of VM {@code vm}
 */
public record WorkloadSpec(
    String name,
    int vms,
    int vcpusPerVm,
    long pagesPerVm,
    MmuKind mmu,
    Optional<GuestImage> image,
    long seed,
    SourceFactory sources) {

  /** The most VMs a workload may have. */
  public static final int MAX_VMS = 1 << 16;

  /** The most vCPUs per VM (KVM_MAX_VCPUS order of magnitude). */
  public static final int MAX_VCPUS = 1024;

  /** Makes per-vCPU access sources; called with validated arguments. */
  @FunctionalInterface
  public interface SourceFactory {
    /** A fresh source for vCPU {@code vcpu} of VM {@code vm}. */
    AccessSource create(int vm, int vcpu);
  }

  /** Validates every field; messages name the field and its allowed range. */
  public WorkloadSpec {
    Objects.requireNonNull(name, "name");
    Checks.inRange("vms", vms, 1, MAX_VMS);
    Checks.inRange("vcpusPerVm", vcpusPerVm, 1, MAX_VCPUS);
    Objects.requireNonNull(mmu, "mmu");
    mmu.checkPages("pagesPerVm", pagesPerVm);
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(sources, "sources");
    if (image.isPresent() && image.get().pages() > pagesPerVm) {
      throw new IllegalArgumentException(
          "image: "
              + image.get().pages()
              + " pages is out of range; allowed 1 to pagesPerVm ("
              + pagesPerVm
              + ")");
    }
  }

  /**
   * A fresh access source for vCPU {@code vcpu} (0 to {@code vcpusPerVm - 1}) of VM {@code vm} (0
   * to {@code vms - 1}).
   */
  public AccessSource sourceFor(int vm, int vcpu) {
    Checks.inRange("vm", vm, 0, vms - 1L);
    Checks.inRange("vcpu", vcpu, 0, vcpusPerVm - 1L);
    return sources.create(vm, vcpu);
  }

  /** The first EA of the guest linear-map window (gfn 0). */
  public long linearMapBase() {
    return mmu.linearMapBase();
  }

  /** The first EA past the window: {@code linearMapBase() + pagesPerVm * 4096}. */
  public long windowEndEa() {
    return mmu.eaOf(pagesPerVm, 0);
  }

  /** The fingerprint gfn {@code gfn} of any VM starts with (image page or zero page). */
  public long initialFingerprint(long gfn) {
    Checks.inRange("gfn", gfn, 0, pagesPerVm - 1);
    return image.map(i -> i.fingerprintOrZero(gfn)).orElse(org.mmumesh.common.Fingerprint.ZERO);
  }

  @Override
  public String toString() {
    return "WorkloadSpec[" + name + "]";
  }
}
