package org.mmumesh.mesh;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.AccessTrace;

/**
 * The {@link Simulation} over the actor mesh, driven from one node: hosts and VMs are registered on
 * every node's {@link MeshDirectory} and created through {@link MeshVms} (the path static runs
 * take), and every other call is one or a few asks to the entities through this node's {@link
 * NodeGlue}, each with a fresh request id and the configured timeout.
 *
 * <p>One class per gateway service area does the work, on a shared base ({@link SimulationArea}:
 * the lookups and checks every call makes before anything is sent, the asks, the vCPUs started):
 *
 * <ul>
 *   <li>{@link HostsArea}: hosts ({@code HostService});
 *   <li>{@link VmsArea}: VMs and their vCPUs' state; {@link MemoryArea}: memslots and guest memory;
 *       {@link GuestHtabArea}: guest HPTEs and R/C ({@code VmService});
 *   <li>{@link AccessArea}: workload batches and traced accesses ({@code AccessService});
 *   <li>{@link KsmArea}: ksmd ({@code KsmService});
 *   <li>{@link ClusterArea}: the invariant check, members, entity locations ({@code
 *       ClusterService}).
 * </ul>
 *
 * <p><b>Lost VMs and hosts</b> ({@link LostEntities}): a call on a VM or host whose state was lost
 * with a node is refused before anything is sent (WRONG_STATE naming the VM, the node and what was
 * lost), and a call still running when the loss is recorded ends at once with {@link
 * SimulationException.Kind#LOST} instead of waiting out its asks.
 *
 * <p>State of the facade's own: the ids ever used and the admission ({@link Creations}), each VM's
 * memslots ({@link Memslots}), each vCPU's batch numbering ({@link AccessArea}). One facade per
 * cluster: two facades on different nodes would not see each other's memslot tables.
 */
public final class MeshSimulation implements Simulation {
  /** Hosts at most (alive or being created at once, cluster-wide as this facade sees it). */
  public static final int MAX_HOSTS = 64;

  /** VMs at most (alive or being created at once). */
  public static final int MAX_VMS = 256;

  private final Admission admission;
  private final HostsArea hosts;
  private final VmsArea vmsArea;
  private final MemoryArea memory;
  private final GuestHtabArea htab;
  private final AccessArea access;
  private final KsmArea ksm;
  private final ClusterArea cluster;
  private final LostEntities lost;

  /**
   * A facade asking from {@code system} (whose glue is {@code glue}), each ask within {@code
   * timeout}, admitting hosts and VMs within {@code budget}.
   */
  MeshSimulation(ActorSystem<?> system, NodeGlue glue, Duration timeout, MemoryBudget budget) {
    Objects.requireNonNull(system, "system");
    Objects.requireNonNull(glue, "glue");
    Objects.requireNonNull(timeout, "timeout");
    AtomicLong ids = new AtomicLong(1L << 40);
    SimulationArea.Shared shared =
        new SimulationArea.Shared(
            system,
            glue,
            new MeshVms(system, glue, timeout, ids),
            ids,
            ConcurrentHashMap.newKeySet());
    this.admission =
        new Admission(
            MAX_HOSTS,
            MAX_VMS,
            Objects.requireNonNull(budget, "budget"),
            Admission.Directory.of(glue.directory()));
    Creations creations = new Creations(system, glue.directory(), admission);
    Memslots slots = new Memslots();
    this.hosts = new HostsArea(shared, creations);
    this.memory = new MemoryArea(shared, slots, admission);
    this.vmsArea = new VmsArea(shared, creations, slots, memory);
    this.htab = new GuestHtabArea(shared);
    this.access = new AccessArea(shared);
    this.ksm = new KsmArea(shared);
    this.cluster = new ClusterArea(shared, ksm);
    this.lost = glue.directory().lost();
  }

  /**
   * {@code call} on VM {@code vmId}, ended with {@link SimulationException.Kind#LOST} (ABORTED) as
   * soon as the VM is marked lost while it runs ({@link LostEntities#watch}): a batch or an ask
   * waiting for a lost node does not wait out its timeouts. (A call made after the loss is refused
   * before anything is sent: WRONG_STATE, see {@link SimulationArea#vm}.)
   */
  private <T> CompletionStage<T> onVm(int vmId, Supplier<CompletionStage<T>> call) {
    return lossAware(MeshDirectory.VM, vmId, call);
  }

  /** {@link #onVm} for a call on host {@code hostId}. */
  private <T> CompletionStage<T> onHost(int hostId, Supplier<CompletionStage<T>> call) {
    return lossAware(MeshDirectory.HOST, hostId, call);
  }

  private <T> CompletionStage<T> lossAware(String kind, int id, Supplier<CompletionStage<T>> call) {
    CompletableFuture<T> running = call.get().toCompletableFuture();
    if (running.isDone()) {
      return running;
    }
    CompletableFuture<T> out = new CompletableFuture<>();
    Runnable stop =
        lost.watch(
            kind,
            id,
            why ->
                out.completeExceptionally(
                    new SimulationException(
                        SimulationException.Kind.LOST, why + "; the call was running")));
    running.whenComplete(
        (v, e) -> {
          stop.run();
          if (e == null) {
            out.complete(v);
          } else {
            out.completeExceptionally(SimulationArea.cause(e));
          }
        });
    return out;
  }

  @Override
  public MemoryBudget memoryBudget() {
    return admission.budget();
  }

  // ---- hosts -----------------------------------------------------------------------------------

  @Override
  public CompletionStage<Void> createHost(int hostId, boolean host32, long maxFrames) {
    return hosts.createHost(hostId, host32, maxFrames);
  }

  @Override
  public CompletionStage<Void> deleteHost(int hostId) {
    return hosts.deleteHost(hostId);
  }

  @Override
  public CompletionStage<List<HostInfo>> listHosts() {
    return hosts.listHosts();
  }

  @Override
  public CompletionStage<Map<String, Long>> hostStats(int hostId) {
    return onHost(hostId, () -> hosts.hostStats(hostId));
  }

  // ---- VMs -------------------------------------------------------------------------------------

  @Override
  public CompletionStage<VmInfo> createVm(VmConfig config) {
    return vmsArea.createVm(config);
  }

  @Override
  public CompletionStage<Void> deleteVm(int vmId) {
    return vmsArea.deleteVm(vmId);
  }

  @Override
  public CompletionStage<VmInfo> getVm(int vmId) {
    return vmsArea.getVm(vmId);
  }

  @Override
  public CompletionStage<VmStats> vmStats(int vmId) {
    return onVm(vmId, () -> vmsArea.vmStats(vmId));
  }

  @Override
  public CompletionStage<Void> setVcpuState(int vmId, int vcpu, List<StateChange> changes) {
    return onVm(vmId, () -> vmsArea.setVcpuState(vmId, vcpu, changes));
  }

  @Override
  public CompletionStage<Long> addSlot(int vmId, Slot slot) {
    return onVm(vmId, () -> memory.addSlot(vmId, slot));
  }

  @Override
  public CompletionStage<Long> removeSlot(int vmId, int slotId) {
    return onVm(vmId, () -> memory.removeSlot(vmId, slotId));
  }

  @Override
  public CompletionStage<Long> loadMemory(int vmId, long gfnStart, long[] fingerprints) {
    return onVm(vmId, () -> memory.loadMemory(vmId, gfnStart, fingerprints));
  }

  @Override
  public CompletionStage<long[]> readMemory(int vmId, long gfnStart, int pages) {
    return onVm(vmId, () -> memory.readMemory(vmId, gfnStart, pages));
  }

  @Override
  public CompletionStage<Long> insertHpte(int vmId, int vcpu, long ea, long gfn, int pp) {
    return onVm(vmId, () -> htab.insertHpte(vmId, vcpu, ea, gfn, pp));
  }

  @Override
  public CompletionStage<Void> removeHpte(int vmId, int vcpu, long ea) {
    return onVm(vmId, () -> htab.removeHpte(vmId, vcpu, ea));
  }

  @Override
  public CompletionStage<AccessTrace.Rc> readRc(int vmId, int vcpu, long ea) {
    return onVm(vmId, () -> htab.readRc(vmId, vcpu, ea));
  }

  @Override
  public CompletionStage<AccessTrace.Rc> clearRc(
      int vmId, int vcpu, long ea, boolean clearR, boolean clearC) {
    return onVm(vmId, () -> htab.clearRc(vmId, vcpu, ea, clearR, clearC));
  }

  // ---- accesses --------------------------------------------------------------------------------

  @Override
  public CompletionStage<BatchResult> runBatch(int vmId, int vcpu, List<AccessOp> ops) {
    return onVm(vmId, () -> access.runBatch(vmId, vcpu, ops));
  }

  @Override
  public CompletionStage<AccessTrace> traceAccess(int vmId, int vcpu, AccessOp op) {
    return onVm(vmId, () -> access.traceAccess(vmId, vcpu, op));
  }

  // ---- KSM -------------------------------------------------------------------------------------

  @Override
  public CompletionStage<KsmControl> ksmControl(
      int hostId, Integer run, Long pagesToScan, Long sleep) {
    return onHost(hostId, () -> ksm.ksmControl(hostId, run, pagesToScan, sleep));
  }

  @Override
  public CompletionStage<Map<String, Long>> ksmPasses(int hostId, int passes) {
    return onHost(hostId, () -> ksm.ksmPasses(hostId, passes));
  }

  @Override
  public CompletionStage<Map<String, Long>> ksmBatch(int hostId, long pages) {
    return onHost(hostId, () -> ksm.ksmBatch(hostId, pages));
  }

  @Override
  public CompletionStage<Map<String, Long>> ksmCounters(int hostId) {
    return onHost(hostId, () -> ksm.ksmCounters(hostId));
  }

  // ---- cluster ---------------------------------------------------------------------------------

  @Override
  public CompletionStage<InvariantReport> checkInvariants() {
    return cluster.checkInvariants();
  }

  @Override
  public CompletionStage<Members> members() {
    return cluster.members();
  }

  @Override
  public CompletionStage<Location> locate(String type, String id) {
    return cluster.locate(type, id);
  }
}
