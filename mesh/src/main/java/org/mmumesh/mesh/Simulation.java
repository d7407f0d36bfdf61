package org.mmumesh.mesh;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.AccessTrace;
import org.mmumesh.common.MmuOptions;

/**
 * The simulation as an external API sees it (the gateway's services, style item 11: each RPC
 * validates, calls one method here, maps the answer back): hosts and VMs created at run time, their
 * vCPUs' state, memslots, guest memory, the guest hashed page table, workload batches, KSM and the
 * cluster. In domain terms only: no proto types, and no actor message types either. An access
 * ({@link AccessOp}) and its trace ({@link AccessTrace}, with the HPTE's {@link AccessTrace.Rc})
 * are plain values of module common that the vCPU speaks too, so a batch and a trace cross the port
 * without a copy per access; the port's own {@link StateChange} is converted to the guest MMU's at
 * the mesh's side of the boundary ({@link PortTypes}). {@link MeshSimulation} implements it over
 * the actor mesh.
 *
 * <p><b>Failures.</b> Every stage fails, never throws, with a {@link SimulationException} of the
 * kind the API documents ({@link SimulationException.Kind#NOT_FOUND} for an unknown
 * host/VM/vCPU/slot, {@link SimulationException.Kind#ALREADY_EXISTS} for a taken id, {@link
 * SimulationException.Kind#BAD_FIELD} when an actor rejected a value that depends on the VM (an SLB
 * entry on a 32-bit guest), {@link SimulationException.Kind#WRONG_STATE}, {@link
 * SimulationException.Kind#LIMIT}, {@link SimulationException.Kind#TIMEOUT}, {@link
 * SimulationException.Kind#UNAVAILABLE}). A refused call changes nothing. Anything else is a bug
 * (the gateway answers INTERNAL).
 *
 * <p><b>Idempotence.</b> Implementations give every actor request a fresh request id; a retry by
 * the client is a new call (creation calls then answer ALREADY_EXISTS).
 */
public interface Simulation {

  /** A host: its MMU width, frame budget and the ids of its VMs in increasing order. */
  record HostInfo(int hostId, boolean host32, long maxFrames, List<Integer> vms) {}

  /** A VM to create (memory in 4 KiB pages; {@code tlbEntries} already defaulted). */
  record VmConfig(
      int vmId,
      int hostId,
      boolean is64,
      long memoryPages,
      int vcpus,
      MmuOptions options,
      int tlbEntries,
      boolean mergeable) {}

  /** A memslot: {@code pages} guest frames from {@code gfnStart} backed from host page on. */
  record Slot(
      int slotId,
      long gfnStart,
      long pages,
      long hostPageStart,
      boolean readOnly,
      long generation) {}

  /** A VM as created, with the guest HTAB's place and its current memslots. */
  record VmInfo(VmConfig config, long htabGuestRealAddr, long htabSizeBytes, List<Slot> memslots) {}

  /** A VM's statistics summed over its vCPUs, and its simulated time. */
  record VmStats(MmuOptions options, Map<String, Long> counters, long simulatedNanos) {}

  /** The most changes one {@link #setVcpuState} call may carry (the vCPU's own bound). */
  int MAX_STATE_CHANGES = 4096;

  /**
   * One change of a vCPU's translation state, as the guest's own instruction makes it (spec
   * 2.1-2.4, 3.2); which ones fit a VM depends on its MMU kind, which the VM checks.
   */
  sealed interface StateChange {
    /** {@code mtspr SDR1}: the vCPU searches the hashed page table {@code sdr1} names. */
    record SetSdr1(long sdr1) implements StateChange {}

    /**
     * {@code mtsrin}: segment register {@code index} (0 to 15) := {@code value} (32-bit guests).
     */
    record Mtsrin(int index, long value) implements StateChange {}

    /** {@code slbmte rs, rb} (64-bit guests); the SLB entry index is {@code rb & 0xfff}. */
    record Slbmte(long rs, long rb) implements StateChange {}

    /** An IBAT ({@code instruction}) or DBAT pair, index 0 to 3 (32-bit guests). */
    record SetBat(boolean instruction, int index, long upper, long lower) implements StateChange {}

    /** The MSR's PR, IR and DR bits. */
    record SetMsr(boolean pr, boolean ir, boolean dr) implements StateChange {}
  }

  /** A workload batch's outcome and the vCPU's cumulative counters after it. */
  record BatchResult(
      long completed, long failed, List<String> failures, Map<String, Long> counters) {}

  /** ksmd's controls ({@code run} 0, 1 or 2). */
  record KsmControl(int run, long pagesToScan, long sleepMillisecs) {}

  /** A cluster member. */
  record Member(String address, Set<String> roles, String status) {}

  /** The members and the address of the node answering. */
  record Members(List<Member> members, String selfAddress) {}

  /** Where an entity lives. */
  record Location(String nodeAddress, String shardId) {}

  /**
   * The node's memory budget, which creates, loads, event watchers and workload batches reserve
   * their projected heap from ({@link FootprintEstimator}); unlimited unless the implementation
   * keeps one.
   */
  default MemoryBudget memoryBudget() {
    return UNLIMITED;
  }

  /** The budget of implementations that keep none. */
  MemoryBudget UNLIMITED = MemoryBudget.unlimited();

  // ---- hosts ---------------------------------------------------------------------------------

  /**
   * Creates a host; ALREADY_EXISTS when taken, LIMIT when the host limit is reached (hosts being
   * created count) or its fixed footprint does not fit the memory budget.
   */
  CompletionStage<Void> createHost(int hostId, boolean host32, long maxFrames);

  /** Deletes a host; NOT_FOUND, or WRONG_STATE while it has VMs. */
  CompletionStage<Void> deleteHost(int hostId);

  /** Every host in increasing id order. */
  CompletionStage<List<HostInfo>> listHosts();

  /**
   * A host's page-frame counters, the leases held, and {@code simulated_nanos}: the sequential
   * engine's clock over the host's current VMs (their vCPUs' hits, exits, reflections and MMIO
   * exits at the default costs) plus the host's COW copies; NOT_FOUND when unknown.
   */
  CompletionStage<Map<String, Long>> hostStats(int hostId);

  // ---- VMs -----------------------------------------------------------------------------------

  /**
   * Creates a VM on its host with memslot 0 over {@code [0, memoryPages)}; NOT_FOUND for an unknown
   * host, ALREADY_EXISTS for a taken (or once used) VM id, BAD_FIELD for a 64-bit guest on a 32-bit
   * host, LIMIT when the host's frames would be exceeded, the VM limit is reached (VMs being
   * created count), or the VM's projected footprint ({@link FootprintEstimator#vm}) does not fit
   * the memory budget; in every case before anything is allocated.
   */
  CompletionStage<VmInfo> createVm(VmConfig config);

  /** Deletes a VM (memslots removed, vCPUs halted); NOT_FOUND when unknown. */
  CompletionStage<Void> deleteVm(int vmId);

  /** Describes a VM; NOT_FOUND when unknown. */
  CompletionStage<VmInfo> getVm(int vmId);

  /** A VM's statistics; NOT_FOUND when unknown. */
  CompletionStage<VmStats> vmStats(int vmId);

  /**
   * Changes a vCPU's translation state, all or nothing ({@code changes} in order, at most {@link
   * #MAX_STATE_CHANGES}); NOT_FOUND for an unknown VM or vCPU, BAD_FIELD naming the change when it
   * does not fit the VM's MMU kind, WRONG_STATE unless the vCPU is idle or paused.
   */
  CompletionStage<Void> setVcpuState(int vmId, int vcpu, List<StateChange> changes);

  /** Adds a memslot; answers the new generation. BAD_FIELD when it overlaps or is taken. */
  CompletionStage<Long> addSlot(int vmId, Slot slot);

  /** Removes a memslot after its leases are released; answers the new generation. */
  CompletionStage<Long> removeSlot(int vmId, int slotId);

  /**
   * Loads one fingerprint per page from {@code gfnStart}; answers the pages loaded. LIMIT when
   * pages beyond the VM's memory size (in memslots added there) that no earlier load populated do
   * not fit the memory budget.
   */
  CompletionStage<Long> loadMemory(int vmId, long gfnStart, long[] fingerprints);

  /** The fingerprints of {@code pages} gfns from {@code gfnStart}. */
  CompletionStage<long[]> readMemory(int vmId, long gfnStart, int pages);

  /**
   * H_ENTER through vCPU {@code vcpu}'s segments: an HPTE for {@code ea -> gfn} with PP bits {@code
   * pp}; answers the HPTE's guest-real address. WRONG_STATE when both PTEGs are full.
   */
  CompletionStage<Long> insertHpte(int vmId, int vcpu, long ea, long gfn, int pp);

  /** H_REMOVE of the HPTE translating {@code ea}, then the guest tlbie; NOT_FOUND when none. */
  CompletionStage<Void> removeHpte(int vmId, int vcpu, long ea);

  /** R and C of the HPTE translating {@code ea}; NOT_FOUND when none. */
  CompletionStage<AccessTrace.Rc> readRc(int vmId, int vcpu, long ea);

  /** Clears R and/or C (then the guest tlbie); answers the bits before. NOT_FOUND when none. */
  CompletionStage<AccessTrace.Rc> clearRc(
      int vmId, int vcpu, long ea, boolean clearR, boolean clearC);

  // ---- accesses ------------------------------------------------------------------------------

  /**
   * Runs one batch on a vCPU, answered when every access completed or failed (the implementation
   * numbers the vCPU's batches itself and resends an unanswered one with the same number);
   * NOT_FOUND for an unknown VM/vCPU, BAD_FIELD for an effective address beyond 32 bits on a 32-bit
   * guest, WRONG_STATE when the vCPU refuses it (paused, halted, too many outstanding batches).
   */
  CompletionStage<BatchResult> runBatch(int vmId, int vcpu, List<AccessOp> ops);

  /**
   * One access with its full trace (the vCPU's own: TLB or host HPTE hit, every exit with its
   * xlate, gfn-to-pfn answer, unmap, map and reflection, R/C before and after); NOT_FOUND for an
   * unknown VM/vCPU, BAD_FIELD for an address beyond 32 bits on a 32-bit guest, WRONG_STATE unless
   * the vCPU is idle.
   */
  CompletionStage<AccessTrace> traceAccess(int vmId, int vcpu, AccessOp op);

  // ---- KSM -----------------------------------------------------------------------------------

  /** Sets ksmd's controls (null keeps a value) and answers them all. NOT_FOUND for a host. */
  CompletionStage<KsmControl> ksmControl(int hostId, Integer run, Long pagesToScan, Long sleep);

  /** Runs {@code passes} full scans now; answers the KSM counters after them. */
  CompletionStage<Map<String, Long>> ksmPasses(int hostId, int passes);

  /**
   * One ksmd wake-up now ({@code ksm_do_scan} of {@code pages} pages, merge handshakes included);
   * answers the KSM counters after it. WRONG_STATE unless {@code run} is 1. With {@code
   * pages_to_scan} 0 ksmd's own timer scans nothing, so a client steps KSM by simulated time.
   */
  CompletionStage<Map<String, Long>> ksmBatch(int hostId, long pages);

  /** The KSM counters of a host. */
  CompletionStage<Map<String, Long>> ksmCounters(int hostId);

  // ---- cluster -------------------------------------------------------------------------------

  /** Invariant violations found on every host and VM, and how many of each were checked. */
  record InvariantReport(List<String> violations, int hosts, int vms) {}

  /**
   * Checks the invariants of every host (page frames, KSM counters, no writable shadow entry on a
   * shared frame unless a VM of the host has quirk Q8) and VM (host MMU); changes nothing.
   */
  CompletionStage<InvariantReport> checkInvariants();

  /** The cluster's members. */
  CompletionStage<Members> members();

  /**
   * Where entity {@code type}/{@code id} lives; BAD_FIELD for an unknown type or malformed id,
   * NOT_FOUND when it was never created.
   */
  CompletionStage<Location> locate(String type, String id);
}
