package org.mmumesh.bench;

import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.hostmmu.HostMmuConfig;
import org.mmumesh.hostmmu.HostMmuCore;
import org.mmumesh.mesh.FootprintEstimator;
import org.mmumesh.mesh.MemoryBudget;
import org.mmumesh.mesh.MeshCluster;
import org.mmumesh.mesh.MeshDirectory;
import org.mmumesh.mesh.Simulation;
import org.mmumesh.vcpu.Tlb;

/**
 * Measures what {@link FootprintEstimator} projects (issue 10's admission control), in a fresh JVM:
 *
 * <pre>
 * java -Xmx4g -cp bench/target/benchmarks.jar org.mmumesh.bench.AdmissionFootprint [N]
 * </pre>
 *
 * <p>First the single structures, walked with {@link HeapSizer}: a 65,536-entry {@link Tlb}, and a
 * 64-bit host MMU ({@link HostMmuCore}: host HTAB, one empty shadow-PTE cache and SID map per vCPU)
 * of 1 and of 64 vCPUs. Then whole entities through the mesh facade of an embedded node (the path
 * the gateway takes), each started (a traced store on each VM's vCPU 0, {@code vmStats} asks every
 * vCPU), the retained heap (used after {@code System.gc()}) divided by their number: {@code N}
 * hosts (default 16), {@code N} VMs of 1 vCPU with 1-entry TLBs, {@code N / 4} VMs of 64 vCPUs with
 * 1-entry TLBs (so per-vCPU costs show apart from TLBs), and {@code N / 4} VMs of the creation
 * storm (64 vCPUs, 65,536-entry TLBs, 16 MiB), each next to the estimator's projection. The
 * projection counts the shadow-PTE caches at their largest, so it is above what an idle VM retains;
 * the measured fixed costs are what {@link FootprintEstimator#VCPU_FIXED_BYTES}, {@link
 * FootprintEstimator#VM_FIXED_BYTES} and {@link FootprintEstimator#HOST_FIXED_BYTES} must cover.
 */
public final class AdmissionFootprint {
  private AdmissionFootprint() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 16;
    System.out.printf(
        "AdmissionFootprint: max heap %d MiB%n", Runtime.getRuntime().maxMemory() >> 20);

    HeapSizer s = new HeapSizer(3);
    long tlb = s.walk("tlb", new Tlb(65536));
    System.out.printf(
        "Tlb(65536): %d bytes, %.2f per entry (estimator %d)%n",
        tlb, tlb / 65536.0, FootprintEstimator.TLB_ENTRY_BYTES);
    long mmu1 = new HeapSizer(8).walk("mmu", new HostMmuCore(HostMmuConfig.host64(1)));
    long mmu64 = new HeapSizer(8).walk("mmu", new HostMmuCore(HostMmuConfig.host64(64)));
    System.out.printf(
        "HostMmuCore 64-bit, 1 vCPU: %d bytes (host HTAB estimator %d); per extra vCPU %d bytes"
            + " (shadow heads %d + 256 initial entries x 94 = %d, SID map 512 x 17 = 8704)%n",
        mmu1,
        (long) (1 << 14) * 8 * FootprintEstimator.HOST_HPTE_BYTES,
        (mmu64 - mmu1) / 63,
        FootprintEstimator.SHADOW_HEADS_BYTES_64,
        256 * 94);

    try (MeshCluster cluster =
        MeshCluster.embeddedSimulation(
            ConfigFactory.parseString(MemoryBudget.CONFIG_KEY + " = 1024g"))) {
      Simulation sim = cluster.simulation(0);
      await(sim.createHost(1000, false, 1 << 22));
      await(sim.ksmCounters(1000));
      await(sim.hostStats(1000));

      long base = MemoryFootprint.usedAfterGc();
      for (int h = 0; h < n; h++) {
        await(sim.createHost(h, false, 1 << 20));
        await(sim.ksmCounters(h));
        await(sim.hostStats(h));
      }
      long hosts = MemoryFootprint.usedAfterGc();
      System.out.printf(
          "per host (PageFrame + Ksm started): %d bytes (estimator %d)%n",
          (hosts - base) / n, FootprintEstimator.HOST_FIXED_BYTES);

      int id = 0;
      long one = measure(sim, id, n, 1, 1, 256);
      id += n;
      long many = measure(sim, id, n / 4, 64, 1, 256);
      id += n / 4;
      long perVcpu = (many - one) / 63;
      System.out.printf(
          "per VM of 1 vCPU, 1-entry TLB, 1 MiB: %d bytes; per extra vCPU: %d bytes%n",
          one, perVcpu);
      long htab = (long) (1 << 14) * 8 * FootprintEstimator.HOST_HPTE_BYTES;
      long vcpuFixed = perVcpu - FootprintEstimator.SHADOW_HEADS_BYTES_64;
      System.out.printf(
          "  so per vCPU besides TLB and shadow heads: %d bytes (estimator VCPU_FIXED_BYTES %d,"
              + " which also covers the 256 initial cache entries)%n",
          vcpuFixed, FootprintEstimator.VCPU_FIXED_BYTES);
      System.out.printf(
          "  per VM besides host HTAB and one vCPU: %d bytes (estimator VM_FIXED_BYTES %d)%n",
          one - htab - perVcpu, FootprintEstimator.VM_FIXED_BYTES);

      long storm = measure(sim, id, n / 4, 64, 65536, 4096);
      MeshDirectory.HostEntry h = new MeshDirectory.HostEntry(0, false, 1 << 20);
      long projected =
          FootprintEstimator.vm(
                  FootprintEstimator.shape(
                      MeshDirectory.ofApi(
                          0, h, true, 4096, 64, MmuOptions.defaults(Policy.FIXED), 65536, false)))
              .bytes();
      System.out.printf(
          "per storm VM (64 vCPUs, 65536-entry TLBs, 16 MiB), idle: %d bytes (%.1f MiB);"
              + " projected %d bytes (%.1f MiB, shadow caches at their largest)%n",
          storm, storm / 1048576.0, projected, projected / 1048576.0);
    }
  }

  /** Creates and starts {@code count} VMs from id {@code first}; retained bytes per VM. */
  private static long measure(Simulation sim, int first, int count, int vcpus, int tlb, long pages)
      throws Exception {
    long before = MemoryFootprint.usedAfterGc();
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (int v = first; v < first + count; v++) {
      int host = v % 16;
      await(
          sim.createVm(
              new Simulation.VmConfig(
                  v, host, true, pages, vcpus, MmuOptions.defaults(Policy.FIXED), tlb, false)));
      await(sim.traceAccess(v, 0, new AccessOp(Access.STORE, 0x1000_0000L, 1)));
      all.add(sim.vmStats(v).toCompletableFuture());
    }
    for (CompletableFuture<?> f : all) {
      f.get(120, TimeUnit.SECONDS);
    }
    return (MemoryFootprint.usedAfterGc() - before) / count;
  }

  private static <T> T await(java.util.concurrent.CompletionStage<T> s) throws Exception {
    return s.toCompletableFuture().get(120, TimeUnit.SECONDS);
  }
}
