package org.mmumesh.mesh;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Quirk;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.GuestLayout;
import org.mmumesh.guestmmu.GuestMmuKind;
import org.mmumesh.guestmmu.GuestSetup;
import org.mmumesh.hostmmu.HostMmuConfig;
import org.mmumesh.vcpu.VcpuSetup;
import org.mmumesh.workload.MmuKind;
import org.mmumesh.workload.WorkloadSpec;

/**
 * One node's directory of the hosts and VMs that exist (immutable entries), read by every entity
 * factory of that node when an entity starts: a {@code HostMmu} takes its {@link VmEntry#hostMmu},
 * a {@code GuestMmu} its {@link VmEntry#guest}, a {@code Vcpu} {@link VmEntry#vcpuSetup}. Written
 * only by the node's {@link DirectoryActor}, read from any thread (concurrent maps of immutable
 * records).
 *
 * <p><b>Ordering rule.</b> An entity whose VM is not in its node's directory when it starts rejects
 * every command for good (passivation is off, so it never restarts). So a VM is registered on
 * <em>every</em> node before any message goes to its entities ({@link MeshVms#create}), and whoever
 * talks to a VM's entities checks the directory first (NOT_FOUND for an unknown VM). For the same
 * reason a deleted VM's id is never reused within a cluster's lifetime: its entities may still run,
 * holding the old configuration.
 *
 * <p>Static runs (a {@link WorkloadSpec} and an {@link EngineConfig}) register their VMs with
 * {@link #ofWorkload}; run-time VMs (the gateway) with {@link #ofApi}. Both become the same kind of
 * entry, created and wired through the same path.
 */
public final class MeshDirectory {
  /** The TLB size when a caller leaves it to the default. */
  public static final int DEFAULT_TLB_ENTRIES = 1024;

  /** A host: its MMU width and the frames it offers guests. */
  public record HostEntry(int hostId, boolean host32, long maxFrames) implements CborSerializable {}

  /**
   * A VM as every node's entity factories need it.
   *
   * @param memoryPages guest-real memory (memslot 0 covers {@code [0, memoryPages)})
   * @param htabOrigin the guest HTAB's guest-real address (inside that memory)
   * @param htabBytes its size
   * @param vcpu the setup of vCPU 0; vCPU {@code n} differs only in its index
   */
  public record VmEntry(
      int vmId,
      int hostId,
      boolean host32,
      GuestSetup guest,
      HostMmuConfig hostMmu,
      VcpuSetup vcpu,
      long memoryPages,
      long htabOrigin,
      long htabBytes,
      boolean mergeable,
      int tlbEntries)
      implements CborSerializable {

    /** The VM's options. */
    public MmuOptions options() {
      return guest.options();
    }

    /** True for a 64-bit guest. */
    public boolean is64() {
      return guest.mmu() == GuestMmuKind.BOOK3S_64;
    }

    /** The number of vCPUs. */
    public int vcpus() {
      return guest.vcpus();
    }

    /** The setup of vCPU {@code n}. */
    public VcpuSetup vcpuSetup(int n) {
      org.mmumesh.common.Checks.inRange("vcpu", n, 0, vcpus() - 1L);
      VcpuSetup s = vcpu;
      return new VcpuSetup(
          vmId,
          n,
          s.options(),
          s.tlbEntries(),
          s.maxFaultsPerAccess(),
          s.requestTimeout(),
          s.maxAttempts(),
          s.maxOutstandingBatches(),
          s.storeBufferCapacity());
    }
  }

  private final ConcurrentHashMap<Integer, HostEntry> hosts = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Integer, VmEntry> vms = new ConcurrentHashMap<>();

  /** Adds or replaces a host (idempotent). */
  void putHost(HostEntry h) {
    hosts.put(h.hostId(), h);
  }

  /** Drops a host (idempotent). */
  void removeHost(int hostId) {
    hosts.remove(hostId);
  }

  /** Adds or replaces a VM (idempotent). */
  void putVm(VmEntry v) {
    vms.put(v.vmId(), v);
  }

  /** Drops a VM (idempotent); its running entities keep their configuration. */
  void removeVm(int vmId) {
    vms.remove(vmId);
  }

  /** The host, if registered on this node. */
  public Optional<HostEntry> host(int hostId) {
    return Optional.ofNullable(hosts.get(hostId));
  }

  /** The VM, if registered on this node. */
  public Optional<VmEntry> vm(int vmId) {
    return Optional.ofNullable(vms.get(vmId));
  }

  /** Every host, by id. */
  public List<HostEntry> hosts() {
    return List.copyOf(new TreeMap<>(hosts).values());
  }

  /** Every VM, by id. */
  public List<VmEntry> vms() {
    return List.copyOf(new TreeMap<>(vms).values());
  }

  /**
   * The VM for an entity factory; an {@link IllegalArgumentException} (the entity then rejects
   * every command) when this node does not know it.
   */
  VmEntry require(int vmId) {
    VmEntry v = vms.get(vmId);
    if (v == null) {
      throw new IllegalArgumentException(
          "vm: " + vmId + " is not registered on this node; create the VM first");
    }
    return v;
  }

  /** The host MMU shape of VM {@code vm}: distinct context ids per VM. */
  static HostMmuConfig hostMmu(boolean host32, MmuOptions options, int vcpus, int vm) {
    HostMmuConfig hc =
        host32
            ? HostMmuConfig.host32(vcpus, options.has(Quirk.Q5_HOST32_INSERTION))
            : HostMmuConfig.host64(vcpus);
    return hc.withFirstContextId(1 + vm * 4);
  }

  /** The vCPU setup of a VM (vCPU 0). */
  static VcpuSetup vcpuSetup(int vm, MmuOptions options, int tlbEntries, int maxFaults) {
    return new VcpuSetup(
        vm,
        0,
        options,
        tlbEntries,
        maxFaults,
        Duration.ofSeconds(10),
        3,
        MeshEngine.MAX_OUTSTANDING,
        1024);
  }

  /**
   * VM {@code vm} of a static run, on host {@link Guardian#HOST}, as the sequential engine has it.
   */
  public static VmEntry ofWorkload(WorkloadSpec spec, EngineConfig cfg, int vm) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(cfg, "cfg");
    GuestLayout layout = GuestLayout.of(spec.mmu(), spec.pagesPerVm());
    GuestSetup gs =
        new GuestSetup(
            spec.mmu() == MmuKind.BOOK3S_32 ? GuestMmuKind.BOOK3S_32 : GuestMmuKind.BOOK3S_64,
            layout.sdr1(),
            layout.memoryPages() << 12,
            cfg.options(),
            spec.vcpusPerVm(),
            spec.linearMapBase(),
            spec.pagesPerVm(),
            cfg.guestPp(),
            cfg.protection());
    return new VmEntry(
        vm,
        Guardian.HOST,
        cfg.host32(),
        gs,
        hostMmu(cfg.host32(), cfg.options(), spec.vcpusPerVm(), vm),
        vcpuSetup(vm, cfg.options(), cfg.tlbEntries(), cfg.maxFaultsPerAccess()),
        layout.memoryPages(),
        layout.htabOrigin(),
        layout.htabBytes(),
        true,
        cfg.tlbEntries());
  }

  /**
   * A VM created at run time with {@code memoryPages} of guest-real memory: the guest kernel's
   * linear window covers the pages below the guest HTAB, which sits at the top of that memory
   * (sized by {@link GuestLayout} for the largest window that fits), the engine's default guest
   * kernel settings otherwise.
   *
   * @throws IllegalArgumentException naming the field when the memory holds no window and HTAB, or
   *     a 64-bit guest is put on a 32-bit host
   */
  public static VmEntry ofApi(
      int vm,
      HostEntry host,
      boolean is64,
      long memoryPages,
      int vcpus,
      MmuOptions options,
      int tlbEntries,
      boolean mergeable) {
    if (host.host32() && is64) {
      throw new IllegalArgumentException(
          "mmu_kind: a 64-bit guest cannot run on 32-bit host "
              + host.hostId()
              + "; allowed: MMU_KIND_BOOK3S_32 on this host");
    }
    MmuKind kind = is64 ? MmuKind.BOOK3S_64 : MmuKind.BOOK3S_32;
    long lo = 1;
    long hi = memoryPages;
    long best = 0;
    while (lo <= hi) {
      long mid = (lo + hi) >>> 1;
      if (GuestLayout.of(kind, mid).memoryPages() <= memoryPages) {
        best = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (best == 0) {
      throw new IllegalArgumentException(
          "memory_size_bytes: "
              + (memoryPages << 12)
              + " holds no guest HTAB and window; allowed: a larger memory");
    }
    GuestLayout layout = GuestLayout.of(kind, best);
    EngineConfig d = EngineConfig.defaults(options);
    GuestSetup gs =
        new GuestSetup(
            is64 ? GuestMmuKind.BOOK3S_64 : GuestMmuKind.BOOK3S_32,
            layout.sdr1(),
            memoryPages << 12,
            options,
            vcpus,
            kind.linearMapBase(),
            best,
            d.guestPp(),
            d.protection());
    return new VmEntry(
        vm,
        host.hostId(),
        host.host32(),
        gs,
        hostMmu(host.host32(), options, vcpus, vm),
        vcpuSetup(vm, options, tlbEntries, d.maxFaultsPerAccess()),
        memoryPages,
        layout.htabOrigin(),
        layout.htabBytes(),
        mergeable,
        tlbEntries);
  }
}
