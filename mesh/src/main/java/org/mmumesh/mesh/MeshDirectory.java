package org.mmumesh.mesh;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
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
 * <p><b>Convergence.</b> Each id (host or VM, separately) goes through at most three states, in
 * this order only: absent, present (one immutable entry), deleted (a tombstone, kept for the
 * cluster's lifetime: ids are never reused). A write or a {@link Snapshot} merged from another node
 * can only move an id forward: a tombstone removes the entry and refuses every later put of that id
 * (so a stale snapshot or a late put cannot resurrect a deleted VM), and a snapshot's entry fills
 * only an absent id (it never replaces an entry the node has). The state of an id is thus the
 * maximum of everything the node has seen, whatever the order: a node that merged the same writes
 * and snapshots as another, in any order and any number of times, has the same directory. This is
 * what lets a node that joins the cluster after hosts and VMs were created catch up ({@link
 * DirectoryActor} sends every new peer its snapshot) while puts and deletions still arrive.
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

  /**
   * Where an entity started first: its type (a name of {@link DirectoryActor#ENTITY_TYPES}), its
   * id, and the address of the node it runs on. Its state lives there, in memory only ({@link
   * LostEntities}).
   */
  public record Placement(String entityType, String entityId, String node)
      implements CborSerializable {}

  /**
   * A loss: host or VM {@code id} ({@code kind} {@value #VM} or {@value #HOST}) had state on node
   * {@code node}, which left the cluster; {@code what} says which state ("guest MMU, vCPUs 0-1").
   */
  public record Loss(String kind, int id, String node, String what) implements CborSerializable {}

  /** {@link Loss#kind} of a VM. */
  public static final String VM = "vm";

  /** {@link Loss#kind} of a host. */
  public static final String HOST = "host";

  /**
   * A directory's content as one node sends it to another ({@link DirectoryActor.Sync}): entries
   * and tombstones (the ids deleted), placements and losses, each list possibly a part of the whole
   * (merging is per id).
   */
  public record Snapshot(
      List<HostEntry> hosts,
      List<Integer> deletedHosts,
      List<VmEntry> vms,
      List<Integer> deletedVms,
      List<Placement> placements,
      List<Loss> losses)
      implements CborSerializable {
    /** Copies the lists (null as empty). */
    public Snapshot {
      hosts = hosts == null ? List.of() : List.copyOf(hosts);
      deletedHosts = deletedHosts == null ? List.of() : List.copyOf(deletedHosts);
      vms = vms == null ? List.of() : List.copyOf(vms);
      deletedVms = deletedVms == null ? List.of() : List.copyOf(deletedVms);
      placements = placements == null ? List.of() : List.copyOf(placements);
      losses = losses == null ? List.of() : List.copyOf(losses);
    }

    /** Entries and tombstones only. */
    public static Snapshot of(
        List<HostEntry> hosts,
        List<Integer> deletedHosts,
        List<VmEntry> vms,
        List<Integer> deletedVms) {
      return new Snapshot(hosts, deletedHosts, vms, deletedVms, null, null);
    }

    /** One placement. */
    public static Snapshot of(Placement p) {
      return new Snapshot(null, null, null, null, List.of(p), null);
    }

    /** Losses. */
    public static Snapshot ofLosses(List<Loss> losses) {
      return new Snapshot(null, null, null, null, null, losses);
    }

    /** The number of entries, tombstones, placements and losses. */
    public int size() {
      return hosts.size()
          + deletedHosts.size()
          + vms.size()
          + deletedVms.size()
          + placements.size()
          + losses.size();
    }

    /**
     * This snapshot cut into snapshots of at most {@code max} entries and tombstones each (a whole
     * directory may not fit one transport frame); merging them all equals merging this one.
     */
    public List<Snapshot> chunks(int max) {
      org.mmumesh.common.Checks.inRange("max", max, 1, Integer.MAX_VALUE);
      List<Snapshot> out = new ArrayList<>();
      Chunker c = new Chunker(max, out);
      deletedHosts.forEach(c::deletedHost);
      deletedVms.forEach(c::deletedVm);
      hosts.forEach(c::host);
      vms.forEach(c::vm);
      placements.forEach(c::placement);
      losses.forEach(c::loss);
      c.flush();
      return out;
    }
  }

  /** Builds {@link Snapshot#chunks}. */
  private static final class Chunker {
    private final int max;
    private final List<Snapshot> out;
    private final List<HostEntry> hosts = new ArrayList<>();
    private final List<Integer> deletedHosts = new ArrayList<>();
    private final List<VmEntry> vms = new ArrayList<>();
    private final List<Integer> deletedVms = new ArrayList<>();
    private final List<Placement> placements = new ArrayList<>();
    private final List<Loss> losses = new ArrayList<>();
    private int n;

    Chunker(int max, List<Snapshot> out) {
      this.max = max;
      this.out = out;
    }

    void host(HostEntry h) {
      hosts.add(h);
      added();
    }

    void deletedHost(int id) {
      deletedHosts.add(id);
      added();
    }

    void vm(VmEntry v) {
      vms.add(v);
      added();
    }

    void deletedVm(int id) {
      deletedVms.add(id);
      added();
    }

    void placement(Placement p) {
      placements.add(p);
      added();
    }

    void loss(Loss l) {
      losses.add(l);
      added();
    }

    private void added() {
      if (++n == max) {
        flush();
      }
    }

    void flush() {
      if (n > 0) {
        out.add(new Snapshot(hosts, deletedHosts, vms, deletedVms, placements, losses));
        hosts.clear();
        deletedHosts.clear();
        vms.clear();
        deletedVms.clear();
        placements.clear();
        losses.clear();
        n = 0;
      }
    }
  }

  private final ConcurrentHashMap<Integer, HostEntry> hosts = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Integer, VmEntry> vms = new ConcurrentHashMap<>();
  private final Set<Integer> deletedHosts = ConcurrentHashMap.newKeySet();
  private final Set<Integer> deletedVms = ConcurrentHashMap.newKeySet();
  private final LostEntities lost = new LostEntities();

  /**
   * Adds or replaces a host (idempotent), unless the id was deleted (a tombstone: ignored).
   *
   * @return whether the directory changed
   */
  boolean putHost(HostEntry h) {
    if (deletedHosts.contains(h.hostId())) {
      return false;
    }
    return !h.equals(hosts.put(h.hostId(), h));
  }

  /**
   * Drops a host for good (idempotent): its id becomes a tombstone.
   *
   * @return whether the directory changed
   */
  boolean removeHost(int hostId) {
    boolean fresh = deletedHosts.add(hostId);
    return hosts.remove(hostId) != null || fresh;
  }

  /**
   * Adds or replaces a VM (idempotent), unless the id was deleted (a tombstone: ignored).
   *
   * @return whether the directory changed
   */
  boolean putVm(VmEntry v) {
    if (deletedVms.contains(v.vmId())) {
      return false;
    }
    return !v.equals(vms.put(v.vmId(), v));
  }

  /**
   * Drops a VM for good (idempotent): its id becomes a tombstone; its running entities keep their
   * configuration.
   *
   * @return whether the directory changed
   */
  boolean removeVm(int vmId) {
    boolean fresh = deletedVms.add(vmId);
    return vms.remove(vmId) != null || fresh;
  }

  /**
   * Merges another node's {@code snapshot} (see the class comment): its tombstones first, then its
   * entries for ids this node has neither as an entry nor as a tombstone.
   *
   * @return whether the directory changed
   */
  boolean merge(Snapshot snapshot) {
    boolean changed = false;
    for (int id : snapshot.deletedHosts()) {
      changed |= removeHost(id);
    }
    for (int id : snapshot.deletedVms()) {
      changed |= removeVm(id);
    }
    for (HostEntry h : snapshot.hosts()) {
      if (!deletedHosts.contains(h.hostId())) {
        changed |= hosts.putIfAbsent(h.hostId(), h) == null;
      }
    }
    for (VmEntry v : snapshot.vms()) {
      if (!deletedVms.contains(v.vmId())) {
        changed |= vms.putIfAbsent(v.vmId(), v) == null;
      }
    }
    for (Placement p : snapshot.placements()) {
      changed |= lost.place(p);
    }
    for (Loss l : snapshot.losses()) {
      changed |= lost.add(l);
    }
    return changed;
  }

  /** This node's directory as a snapshot: entries and tombstones by id, placements, losses. */
  public Snapshot snapshot() {
    return new Snapshot(
        hosts(),
        new TreeSet<>(deletedHosts).stream().toList(),
        vms(),
        new TreeSet<>(deletedVms).stream().toList(),
        lost.placements(),
        lost.losses());
  }

  /** What this node knows of where entities started and what was lost ({@link LostEntities}). */
  LostEntities lost() {
    return lost;
  }

  /**
   * The losses a departure of node {@code node} causes, as {@link LostEntities#lossesOf} with this
   * directory's VMs (a host's loss loses the memory of every VM on it); deleted ones left out.
   */
  List<Loss> lossesOf(String node) {
    java.util.Map<Integer, List<Integer>> vmsByHost = new TreeMap<>();
    for (VmEntry v : vms.values()) {
      vmsByHost.computeIfAbsent(v.hostId(), h -> new ArrayList<>()).add(v.vmId());
    }
    List<Loss> out = new ArrayList<>();
    for (Loss l : lost.lossesOf(node, vmsByHost)) {
      boolean deleted = VM.equals(l.kind()) ? vmDeleted(l.id()) : hostDeleted(l.id());
      if (!deleted) {
        out.add(l);
      }
    }
    return out;
  }

  /** Why VM {@code vmId} cannot serve, when it was lost; empty otherwise. */
  public Optional<String> vmLost(int vmId) {
    return lost.why(VM, vmId);
  }

  /** Why host {@code hostId} cannot serve, when it was lost; empty otherwise. */
  public Optional<String> hostLost(int hostId) {
    return lost.why(HOST, hostId);
  }

  /** Whether host {@code hostId} was deleted (a tombstone: its id must not be reused). */
  public boolean hostDeleted(int hostId) {
    return deletedHosts.contains(hostId);
  }

  /** Whether VM {@code vmId} was deleted (a tombstone: its id must not be reused). */
  public boolean vmDeleted(int vmId) {
    return deletedVms.contains(vmId);
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
