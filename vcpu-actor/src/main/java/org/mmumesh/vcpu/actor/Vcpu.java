package org.mmumesh.vcpu.actor;

import static org.mmumesh.vcpu.actor.VcpuReplies.refusal;
import static org.mmumesh.vcpu.actor.VcpuReplies.requestIdOf;

import it.unimi.dsi.fastutil.longs.Long2LongOpenHashMap;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.BehaviorBuilder;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.mmumesh.common.Access;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Counts;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MeshEventBus;
import org.mmumesh.common.VsidTags;
import org.mmumesh.guestmmu.Cpu64State;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.AccessRecorder;
import org.mmumesh.vcpu.AccessTrace;
import org.mmumesh.vcpu.CBitWatch;
import org.mmumesh.vcpu.FaultStep;
import org.mmumesh.vcpu.HostFault;
import org.mmumesh.vcpu.PageFaultHandler;
import org.mmumesh.vcpu.StoreBuffer;
import org.mmumesh.vcpu.Tlb;
import org.mmumesh.vcpu.VcpuCore;
import org.mmumesh.vcpu.VcpuSetup;
import org.mmumesh.vcpu.actor.OutstandingRequest.Kind;
import org.mmumesh.vcpu.actor.VcpuWork.Batch;
import org.mmumesh.vcpu.actor.VcpuWork.TraceOp;
import org.mmumesh.vcpu.actor.VcpuWork.TracePhase;

/**
 * One vCPU as an actor (architecture sections 2-4, issue 4): it executes workload batches against
 * its TLB, asks the VM's {@link HostMmu} on a miss, and runs {@link PageFaultHandler} (spec 6.1,
 * 6.2), the one decision procedure of a fault, by messages to {@link GuestMmu}, {@link PageFrame}
 * and {@link HostMmu}. All decisions and counts of an access are {@link VcpuCore}'s, the pure core
 * the sequential engine drives too ({@code SequentialEngine.access()} answers its needs by calls,
 * this actor by messages), so both engines count the same things by construction; this class
 * routes, times out, retries and keeps the lifecycle. Its protocol is {@link VcpuProtocol}. Plain
 * classes hold parts of its state: {@link OutstandingRequest} (the one request to a peer, its
 * retries and the timeout tick), {@link StoreFlushes} (the store buffer against the page frames and
 * shootdown acks), {@link VcpuWork} (batches, a trace or state change in progress), {@link
 * VcpuSharding} (the entity type) and {@link VcpuReplies} (the id and refusal of a peer's reply).
 *
 * <h2>Lifecycle (one method per state)</h2>
 *
 * <pre>
 *   Starting --ModeOf--&gt; Idle --RunBatch--&gt; Running --miss needs a fault--&gt; AwaitingFault
 *   AwaitingFault --Resume/Reflect handled--&gt; Running --last batch done--&gt; Idle
 *   any but Halted --Halt (at the next access boundary)--&gt; Halted
 *   Idle --SetState--&gt; Running --StateSet or Rejected--&gt; Idle
 *   Idle --TraceAccess--&gt; Running --AccessTraced--&gt; Idle
 * </pre>
 *
 * {@code Starting} waits for the vCPU's translation mode ({@link GuestMmu.GetMode}): the TLB tag
 * and the fault handler need it; batches received meanwhile are queued. {@code Running} executes
 * accesses and may wait for an {@code EsidToVsid}, a {@code Lookup}, a {@code FlushVcpu} or room in
 * the store buffer; {@code AwaitingFault} waits for a fault step's reply. A command illegal in the
 * current state is answered {@link Rejected} naming the state (Firecracker's {@code NotAllowed}),
 * never ignored. Halt takes effect at the next access boundary: the access in progress completes or
 * fails first, so no access is half done; Halt fails every access not yet executed ("halted"), so
 * every access of every accepted batch is answered once (invariant 6).
 *
 * <h2>Setting the vCPU's state ({@link SetState})</h2>
 *
 * A client sets MSR bits, segment state (SLB, segment registers, BATs) and SDR1 with {@link
 * SetState}, legal in Idle: the guest executes the changes ({@code mtmsr}, {@code slbmte}, {@code
 * mtspr SDR1}, ...), so the vCPU is Running meanwhile (batches received are queued, Halt waits for
 * the end). It forwards the changes to {@link GuestMmu.SetVcpuState} (all or nothing; a rejection
 * is passed on as {@link Rejected}); on success it empties its TLB and its cache of guest VSIDs,
 * takes the new mode, and sends {@link HostMmu.FlushVcpu} ({@code kvmppc_mmu_pte_flush(vcpu, 0,
 * 0)}: the shadow entries of this vCPU were made under the old segments or from the old SDR1's
 * table, and the kernel's {@code mtspr SDR1} emulation flushes exactly so) before it answers {@link
 * StateSet}. A FlushVcpu that times out leaves KVM_REQ_TLB_FLUSH pending, so the next guest entry
 * flushes. A repeated request id of the change in progress joins it; of the last completed one is
 * answered from memory; a failed change is not remembered (re-applying the same changes is
 * harmless).
 *
 * <h2>A traced access ({@link TraceAccess})</h2>
 *
 * One access with the full trace of what happened ({@link AccessTrace}, for the gateway's {@code
 * Access} RPC), legal in Idle only: a vCPU with batches is running a workload, so it is rejected
 * (the API's FAILED_PRECONDITION). The vCPU reads the guest R/C of the address ({@link
 * GuestMmu.ReadRc}), enters the guest, runs the access as a one-access batch through the very same
 * path as every access with an {@link AccessRecorder} attached (the recorder field is null
 * otherwise: one null check per step), waits until its store (if any) is applied, reads R/C again,
 * reads the loaded word of a completed load or fetch ({@link PageFrame.ReadWord}), and answers
 * {@link AccessTraced}. The traced access counts in the counters like any other. Batches received
 * meanwhile are queued and run afterwards. A repeated request id joins the trace in progress or is
 * answered from memory (the last one). A step that times out leaves its part of the trace unset
 * (R/C null, value 0) rather than failing the trace.
 *
 * <h2>An access ({@link VcpuCore}, as {@code SequentialEngine.access})</h2>
 *
 * A TLB hit ({@link Tlb#tag}{@code (ea, mode)} at the known HostMmu epoch) that permits the access
 * completes with no message. On a miss, the guest VSID of the ea's segment comes from a cache (esid
 * -&gt; gvsid, filled by {@link GuestMmu.Translated} and {@link GuestMmu.VsidOf} replies, emptied
 * when {@link GuestMmu.ExceptionHandled#segmentsChanged()}); when it is not cached the vCPU asks
 * {@link GuestMmu.EsidToVsid} first (the sequential engine calls {@code esidToVsid} on every miss;
 * answering a miss with a NOHPTE fault instead would run a guest-visible xlate, R/C updates
 * included, that the sequential engine does not run). {@code NO_VSID} is a NOHPTE fault at once;
 * else {@link HostMmu.Lookup}: a permitting hit fills the TLB with the reply's epoch and completes;
 * a miss is {@link HostFault#noHpte}, a store to a read-only hit {@link HostFault#protection}, a
 * fetch from a no-execute hit {@link HostFault#noExecute}. More than {@code maxFaultsPerAccess}
 * faults in one access fail it ("livelock"); a fault forced by another's Q8 flush (served before
 * the retry, when this access's fault broke no COW itself) is not one of them ({@link
 * LivelockBound}).
 *
 * <h2>A fault</h2>
 *
 * Each {@link FaultStep} becomes one request with a fresh request id: {@code Xlate} -&gt; {@link
 * GuestMmu.Xlate}; {@code GfnToPfn} -&gt; {@link PageFrame.GfnToPfnProt} (the lease of the answer
 * is remembered); {@code UnmapPage} -&gt; {@link HostMmu.UnmapPage}; {@code MapPage} -&gt; {@link
 * HostMmu.MapPage} with the handler's guard sequence. The lease is released ({@link
 * PageFrame.ReleaseLease}, which also drops the answer's page reference) when the fault ends: on a
 * reflection, MMIO, a failure or a timeout at once, and after the map ({@code Resume}) once the
 * retried access has executed, or when its next fault's answer brings a new lease (the guest's
 * immediate retry, see {@code releaseLease}). Terminal steps: {@code Reflect} -&gt; {@link
 * GuestMmu.HandleException} with the handler's vector, DSISR and SRR1 bits, then the access is
 * retried or failed with the guest kernel's reason; {@code MmioExit} completes the access; {@code
 * Resume} retries it (counting Q7 map failures); {@code Failed} fails it. {@link
 * GuestMmu.Rejected}, {@link HostMmu.Rejected}, {@link PageFrame.Rejected} and the {@code Failed}
 * replies fail the access with their reason. Every retry of the access (after a fault) first
 * re-enters the guest: a pending KVM_REQ_TLB_FLUSH is processed there.
 *
 * <h2>Timeouts and retries</h2>
 *
 * One request is outstanding at a time, sent again with the same id when unanswered and given up
 * after {@link VcpuSetup#maxAttempts()} attempts; timeouts count in ticks of one periodic timer
 * (see {@link OutstandingRequest}).
 *
 * <h2>TLB shootdowns (KVM_REQ_TLB_FLUSH semantics)</h2>
 *
 * At start the vCPU subscribes to its HostMmu ({@link HostMmu.SubscribeTlb}). A {@link
 * HostMmu.TlbShootdown} is handled in every state, also while a fault's reply is outstanding (the
 * HostMmu, and a PageFrame waiting on it, would otherwise wait on this vCPU): the known epoch moves
 * up, which empties the TLB, and the ack goes out as soon as every store made before it has been
 * applied by the page frames (see below), without waiting for anything else. A reply whose epoch is
 * below the known one means the HostMmu restarted (or, harmlessly, a reordering): the vCPU
 * subscribes again with its known epoch, and a stale {@code LookedUp} is not used to fill the TLB
 * (the lookup is repeated). A shootdown with {@link HostMmu.TlbShootdown#flushRequested()} (an
 * MMU-notifier under Q8: {@code kvm_flush_remote_tlbs}, spec 5.7) sets KVM_REQ_TLB_FLUSH pending:
 * the TLB is already emptied by the shootdown's epoch, the ack goes out as usual, and the vCPU
 * sends {@link HostMmu.FlushVcpu} and waits for its reply before it next enters the guest. A halted
 * vCPU never enters the guest again: at Halt a flush pending or in flight is sent (Halt is
 * acknowledged after its reply), and a flush requested later is sent at once. <b>Guest entries</b>
 * are exactly the sequential engine's ({@code SequentialEngine.enterGuest}): the start of a batch
 * (the engine's quantum), Resume, and the end of every exit whatever its outcome: before retrying
 * the access (Resume), before the guest kernel takes a reflected interrupt ({@code
 * HandleException}), after an MMIO exit, and after a fault step that failed the access ({@code
 * kvmppc_handle_exit -> kvmppc_prepare_to_enter -> kvmppc_core_check_requests}). <b>A request that
 * arrives mid-batch</b> is an IPI in the kernel ({@code kvm_flush_remote_tlbs} kicks the vCPU out
 * of guest mode), so it is processed at the very next guest entry, before another guest access: the
 * next access of the batch waits for the flush, an access whose guest VSID was being asked flushes
 * before its HTAB search, and a {@link HostMmu.LookedUp} that arrives while a flush is pending is
 * dropped (the HostMmu keeps this vCPU's old HPTEs until its FlushVcpu, so the reply may name a
 * frame KSM has since merged and freed) and the access looks up again after the flush. In lockstep
 * with one vCPU per VM a request is only set while the vCPU is idle (KSM between rounds) or in an
 * exit of its own (a notifier from its fault), where the engine flushes too, so these extra entries
 * never occur there.
 *
 * <h2>Missed C bits (Q4)</h2>
 *
 * {@link CBitWatch}, shared with the sequential engine, decides: a writable host mapping installed
 * by a non-store fault whose xlate left the guest C bit clear starts a watch of the page; a store
 * that completes through a TLB entry of a watched page asks {@link GuestMmu.ReadRc} and counts
 * {@code MISSED_C} while C is clear (the access completes after that reply). {@code SPURIOUS_C}
 * counts xlates that set C for a non-store access, as the engine does. The watch is per vCPU here
 * and per VM in the engine: the same for one vCPU per VM.
 *
 * <h2>Stores and frame contents</h2>
 *
 * Stores are buffered and applied by the page frames before the batch's {@link BatchDone} and
 * before any TlbShootdown is acknowledged (see {@link StoreFlushes}).
 *
 * <h2>Bounded work</h2>
 *
 * At most {@link VcpuSetup#maxOutstandingBatches()} batches are accepted and not done (the running
 * one included); more are {@link Rejected}. A batch holds at most {@link #MAX_BATCH_ACCESSES}
 * accesses. Batch ids must increase: a repeated id of an outstanding batch joins it (one execution,
 * each requester answered), the last completed one is answered from memory, any other id not above
 * the last accepted one is rejected.
 *
 * <h2>Failures, supervision, passivation</h2>
 *
 * A core that throws (the fault handler) is logged with the vCPU and address and fails that access;
 * the actor is supervised with <em>resume</em>. Request ids start at a per-incarnation base (the
 * actor path's uid in the upper 32 bits), so a restarted vCPU is never answered from the other
 * actors' memory of its previous incarnation. Entity {@link #ENTITY_KEY}, id {@code
 * vm-<v>/vcpu-<n>} ({@link #entityId}). On a rebalance the queued batches are lost (their
 * requesters time out) and the TLB restarts empty; that is safe for the memory state but not for
 * invariant 6, so rebalancing stays off.
 *
 * <p><b>Passivation.</b> A sharded vCPU that received nothing through its shard for {@value
 * VcpuParking#PASSIVATE_AFTER_IDLE_KEY} (default off here; the mesh's configuration sets it) is
 * sent {@code Park} by its shard. It parks at once when nothing is outstanding (Idle or Halted, no
 * request, store flush, state change or trace in flight), else as soon as that is so (the shard
 * holds the entity's other messages meanwhile, and everything in flight completes by direct
 * replies): its counters, mode, known epoch, pending KVM_REQ_TLB_FLUSH, missed-C watch, cached
 * segment VSIDs, batch numbering, remembered replies and queued batches go to the node's {@link
 * VcpuParking}, with the TLB entries valid at the known epoch ({@link Tlb#snapshot}); the TLB
 * arrays are dropped. The next incarnation on the node takes that back and starts in the parked
 * state without asking the mode (only SetState, through this vCPU, changes it); it subscribes to
 * its HostMmu again, which answers the current epoch (a higher one empties the restored TLB, as it
 * would have emptied the live one) and a KVM_REQ_TLB_FLUSH requested meanwhile. So accesses, exits,
 * TLB and HTAB hits (the simulated clock) and every other counter continue as without passivation,
 * with one exception: {@code SHOOTDOWNS} counts the shootdowns this vCPU received (a subscription's
 * answer is none: it removes nothing, so a vCPU started but never run counts 0, as one never
 * started), and a parked vCPU, having no TLB to shoot down, receives none. The TLB is also
 * allocated lazily ({@link Tlb}): a vCPU that never ran holds none. The parked state is node-local
 * (see {@link VcpuParking}): a vCPU moved to another node loses it.
 *
 * <p><b>Event feed.</b> Each exit (NOHPTE, PROTFAULT, NOEXEC) is published as a FAULT {@code
 * MeshEvent} (VM, vCPU, EA, {@code "NOHPTE load"}-style detail) on the node's {@link MeshEventBus},
 * built only while somebody watches (one volatile read otherwise).
 */
public final class Vcpu implements VcpuProtocol {

  /** The sharded entity type; entity ids are {@code vm-<v>/vcpu-<n>}. */
  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "Vcpu");

  /** Segments whose guest VSID is cached; the cache is emptied when it would grow beyond. */
  static final int ESID_CACHE_MAX = 4096;

  /** Any reply of another actor (and TLB shootdowns), through the one message adapter. */
  private record Answer(Object reply) implements Internal, NoSerializationVerificationNeeded {}

  /** A page-frame store reply, through the store adapter (see {@link #onStoresReply}). */
  private record StoresReplied(PageFrame.StoresReply reply)
      implements Internal, NoSerializationVerificationNeeded {}

  /** The timeout tick (one periodic timer while a request or a store flush is outstanding). */
  private record Tick() implements Internal, NoSerializationVerificationNeeded {}

  private static final Tick TICK = new Tick();

  /** Sharding's stop message: park (see the class comment), now or once nothing is in flight. */
  record Park() implements Internal, NoSerializationVerificationNeeded {}

  static final Park PARK = new Park();

  /** What a parked vCPU keeps on its node ({@link VcpuParking}); the TLB compactly. */
  private record Parked(
      VcpuState state,
      int mode,
      long knownEpoch,
      boolean pendingFlush,
      Counts counters,
      Tlb.Snapshot tlb,
      CBitWatch cWatch,
      Long2LongOpenHashMap esidToGvsid,
      long lastAcceptedBatchId,
      BatchDone lastDone,
      StateSet lastStateSet,
      AccessTraced lastTraced,
      Batch cur,
      List<Batch> queue) {}

  // ---- Creation and sharding ------------------------------------------------------------------

  /**
   * Builds a vCPU whose stores go to {@code stores} as {@link PageFrame.ApplyStores} (normally the
   * same PageFrame as {@code frames}; tests give a separate probe); see the class comment.
   */
  public static Behavior<Command> create(
      VcpuSetup setup,
      ActorRef<GuestMmu.Command> guest,
      ActorRef<HostMmu.Command> host,
      ActorRef<PageFrame.Command> frames,
      ActorRef<PageFrame.ApplyStores> stores) {
    return create(setup, guest, host, frames, stores, false);
  }

  static Behavior<Command> create(
      VcpuSetup setup,
      ActorRef<GuestMmu.Command> guest,
      ActorRef<HostMmu.Command> host,
      ActorRef<PageFrame.Command> frames,
      ActorRef<PageFrame.ApplyStores> stores,
      boolean sharded) {
    Objects.requireNonNull(setup, "setup");
    Objects.requireNonNull(guest, "guest");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(frames, "frames");
    Behavior<Command> b =
        Behaviors.setup(
            ctx ->
                Behaviors.withTimers(
                    timers ->
                        new Vcpu(ctx, timers, setup, guest, host, frames, stores, sharded)
                            .start()));
    return Behaviors.supervise(b).onFailure(SupervisorStrategy.resume());
  }

  /** Builds a vCPU whose stores go to {@code frames}. */
  public static Behavior<Command> create(
      VcpuSetup setup,
      ActorRef<GuestMmu.Command> guest,
      ActorRef<HostMmu.Command> host,
      ActorRef<PageFrame.Command> frames) {
    Objects.requireNonNull(frames, "frames");
    return create(setup, guest, host, frames, frames.narrow());
  }

  /** The entity id of vCPU {@code vcpu} of VM {@code vm}: {@code vm-<v>/vcpu-<n>}. */
  public static String entityId(int vm, int vcpu) {
    org.mmumesh.common.Checks.inRange("vm", vm, 0, Integer.MAX_VALUE);
    org.mmumesh.common.Checks.inRange("vcpu", vcpu, 0, VcpuSetup.MAX_VCPU);
    return "vm-" + vm + "/vcpu-" + vcpu;
  }

  /**
   * The (vm, vcpu) of an entity id {@code vm-<v>/vcpu-<n>}.
   *
   * @throws IllegalArgumentException naming {@code entityId} and the allowed form
   */
  public static int[] vmAndVcpuOf(String entityId) {
    return VcpuSharding.vmAndVcpuOf(entityId);
  }

  /** The setup of vCPU {@code vcpu} of VM {@code vm}, for {@link #initSharding}. */
  @FunctionalInterface
  public interface SetupOf {
    VcpuSetup apply(int vm, int vcpu);
  }

  /**
   * Registers the {@code Vcpu} entity type with Cluster Sharding ({@link VcpuSharding}); idle vCPUs
   * park after {@value VcpuParking#PASSIVATE_AFTER_IDLE_KEY} (see the class comment).
   *
   * @param setupOf the setup of each vCPU
   * @param guestOf the GuestMmu of VM {@code v} (an adapter to its sharded entity)
   * @param hostOf the HostMmu of VM {@code v}
   * @param framesOf the PageFrame of the host running VM {@code v}
   * @param role the cluster role hosting vCPUs, or null for every node
   */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system,
      SetupOf setupOf,
      IntFunction<ActorRef<GuestMmu.Command>> guestOf,
      IntFunction<ActorRef<HostMmu.Command>> hostOf,
      IntFunction<ActorRef<PageFrame.Command>> framesOf,
      String role) {
    return VcpuSharding.initSharding(system, setupOf, guestOf, hostOf, framesOf, role, null);
  }

  /**
   * As {@link #initSharding(ActorSystem, SetupOf, IntFunction, IntFunction, IntFunction, String)},
   * shards placed by {@code allocation} (null: Pekko's default, which rebalances and so restarts
   * vCPUs empty on their new node).
   */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system,
      SetupOf setupOf,
      IntFunction<ActorRef<GuestMmu.Command>> guestOf,
      IntFunction<ActorRef<HostMmu.Command>> hostOf,
      IntFunction<ActorRef<PageFrame.Command>> framesOf,
      String role,
      org.apache.pekko.cluster.sharding.ShardCoordinator.ShardAllocationStrategy allocation) {
    return VcpuSharding.initSharding(system, setupOf, guestOf, hostOf, framesOf, role, allocation);
  }

  // ---- State ----------------------------------------------------------------------------------

  private static final long NONE = VcpuWork.NONE;

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final VcpuSetup setup;
  private final int vm;
  private final int vcpu;
  private final Duration timeout;
  private final ActorRef<GuestMmu.Command> guest;
  private final ActorRef<HostMmu.Command> host;
  private final ActorRef<PageFrame.Command> frames;
  private final ActorRef<PageFrame.ApplyStores> stores;
  private final ActorRef<CborSerializable> answers;
  private final ActorRef<PageFrame.StoresReply> storesApplied;
  private final VcpuCore core;
  private final Tlb tlb;
  private final Cpu64State cpu = new Cpu64State();
  private final Long2LongOpenHashMap esidToGvsid;
  private final StoreBuffer buffer;
  private final CBitWatch cWatch;

  /** Sharded (parks when idle); the parked state this incarnation started from, or null. */
  private final boolean sharded;

  private Parked restored;

  /** A SubscribeTlb is not answered yet (its answer is not counted as a shootdown). */
  private boolean subscribing;

  /** The event feed: this node's bus (a FAULT per exit while somebody watches). */
  private final MeshEventBus events;

  private final long idBase;

  private final Behavior<Command> starting;
  private final Behavior<Command> idle;
  private final Behavior<Command> running;
  private final Behavior<Command> awaitingFault;
  private final Behavior<Command> halted;
  private VcpuState state = VcpuState.STARTING;

  private int mode = -1;
  private long knownEpoch;

  // batches
  private final ArrayDeque<Batch> queue = new ArrayDeque<>();
  private Batch cur;
  private long lastAcceptedBatchId = NONE;
  private BatchDone lastDone;
  private final List<ActorRef<ControlReply>> haltWaiters = new ArrayList<>(1);

  // the SetState in progress (null when none) and the last one completed
  private final StateChanges states = new StateChanges();

  // the TraceAccess in progress (null when none), the last one answered, and the recorder of the
  // access in progress (null unless it is the traced one: the batch path pays one null check)
  private final TracedAccesses traces = new TracedAccesses();
  private AccessRecorder rec;
  private long unmapVpage;
  private int mapPfn;
  private long pfnGfn;

  // the access in progress (null between accesses)
  private AccessOp op;
  private boolean forcedByFlush; // the next fault follows another's flush (LivelockBound)
  private boolean pfnCow; // the last fault of this access broke a COW (its own Q8 flush)
  private int staleLookups;
  private long lease = NONE;
  private long mapEa;

  // the one outstanding request
  private final OutstandingRequest requests;
  private Supplier<Behavior<Command>> afterFlush;
  private boolean pendingFlush;

  // stores, and the shootdown acks and BatchDones waiting for them
  private final StoreFlushes flushes;

  // the timeout tick

  private Vcpu(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      VcpuSetup setup,
      ActorRef<GuestMmu.Command> guest,
      ActorRef<HostMmu.Command> host,
      ActorRef<PageFrame.Command> frames,
      ActorRef<PageFrame.ApplyStores> stores,
      boolean sharded) {
    this.ctx = ctx;
    ctx.setLoggerName(Vcpu.class);
    this.timers = timers;
    this.setup = setup;
    this.vm = setup.vm();
    this.vcpu = setup.vcpu();
    this.timeout = setup.requestTimeout();
    this.guest = guest;
    this.host = host;
    this.frames = frames;
    this.stores = stores;
    this.answers = ctx.messageAdapter(CborSerializable.class, Answer::new);
    // registered after `answers`: the page frames' store replies (and every PageFrame.Rejected,
    // one type for several requests) come through here; see onStoresReply
    this.storesApplied = ctx.messageAdapter(PageFrame.StoresReply.class, StoresReplied::new);
    this.sharded = sharded;
    Parked p =
        sharded
            ? VcpuParking.get(ctx.getSystem())
                .take(entityId(vm, vcpu))
                .map(e -> (Parked) e.state())
                .orElse(null)
            : null;
    this.restored = p;
    this.tlb = p == null ? new Tlb(setup.tlbEntries()) : Tlb.restored(setup.tlbEntries(), p.tlb());
    this.cWatch = p == null ? new CBitWatch() : p.cWatch();
    this.core =
        new VcpuCore(
            tlb,
            cWatch,
            new PageFaultHandler(setup.options()),
            setup.maxFaultsPerAccess(),
            p == null ? Counts.zero() : p.counters());
    this.esidToGvsid = p == null ? new Long2LongOpenHashMap() : p.esidToGvsid();
    if (p != null) {
      mode = p.mode();
      core.setMode(mode);
      knownEpoch = p.knownEpoch();
      pendingFlush = p.pendingFlush();
      lastAcceptedBatchId = p.lastAcceptedBatchId();
      lastDone = p.lastDone();
      states.restore(p.lastStateSet());
      traces.restore(p.lastTraced());
      cur = p.cur();
      queue.addAll(p.queue());
    }
    this.buffer = new StoreBuffer(setup.storeBufferCapacity());
    this.events = MeshEventBus.of(ctx.getSystem());
    this.idBase = ((long) (ctx.getSelf().path().uid() & 0x7FFFFFFF)) << 32;
    this.requests =
        new OutstandingRequest(
            timers, TICK, setup.tickInterval(), timeout, setup.maxAttempts(), idBase);
    this.flushes =
        new StoreFlushes(
            vm,
            vcpu,
            idBase,
            setup.maxAttempts(),
            buffer,
            stores,
            storesApplied,
            core,
            ctx.getLog(),
            requests::deadline,
            this::sendDone);
    this.starting = startingState();
    this.idle = idleState();
    this.running = runningState();
    this.awaitingFault = awaitingFaultState();
    this.halted = haltedState();
  }

  /** Subscribes to TLB shootdowns and asks for the translation mode. */
  private Behavior<Command> start() {
    subscribe(0);
    if (restored != null) {
      // Parked --started again--> the parked state; the mode is known (only SetState changes it)
      cpu.setMsr((mode & 4) != 0, (mode & 2) != 0, (mode & 1) != 0);
      VcpuState parked = restored.state();
      restored = null; // the state is taken over: keep no second reference
      return become(parked);
    }
    requests.send(Kind.MODE, guest, id -> new GuestMmu.GetMode(vcpu, answers.narrow()));
    return starting;
  }

  // ---- States (one method each) ---------------------------------------------------------------

  /** Waiting for the mode; batches are queued. */
  private Behavior<Command> startingState() {
    return common(
        Behaviors.receive(Command.class)
            .onMessage(RunBatch.class, this::onRunBatch)
            .onMessage(SetState.class, this::onSetStateNotAllowed)
            .onMessage(TraceAccess.class, this::onTraceNotAllowed)
            .onMessage(Halt.class, this::onHaltNow));
  }

  /** No work. */
  private Behavior<Command> idleState() {
    return common(
        Behaviors.receive(Command.class)
            .onMessage(RunBatch.class, this::onRunBatch)
            .onMessage(SetState.class, this::onSetState)
            .onMessage(TraceAccess.class, this::onTraceAccess)
            .onMessage(Halt.class, this::onHaltNow));
  }

  /** Executing a batch; possibly waiting for a vsid, a lookup, a flush or store-buffer room. */
  private Behavior<Command> runningState() {
    return busyState();
  }

  /**
   * A fault's reply is outstanding. Answers commands as {@link #runningState} does; a distinct
   * instance, so the state the vCPU reports tells the two apart.
   */
  private Behavior<Command> awaitingFaultState() {
    return busyState();
  }

  /** Mid-batch (running or awaiting a fault): Halt waits for an access boundary. */
  private Behavior<Command> busyState() {
    return common(
        Behaviors.receive(Command.class)
            .onMessage(RunBatch.class, this::onRunBatch)
            .onMessage(SetState.class, this::onSetStateNotAllowed)
            .onMessage(TraceAccess.class, this::onTraceNotAllowed)
            .onMessage(Halt.class, this::onHaltAtBoundary));
  }

  /** Stopped for good: shootdowns are still acknowledged, counters still reported. */
  private Behavior<Command> haltedState() {
    return common(
        Behaviors.receive(Command.class)
            .onMessage(
                RunBatch.class,
                m -> reject(m.replyTo(), m.batchId(), "RunBatch: not allowed in state HALTED"))
            .onMessage(SetState.class, this::onSetStateNotAllowed)
            .onMessage(TraceAccess.class, this::onTraceNotAllowed)
            .onMessage(Halt.class, m -> notAllowed(m.replyTo(), "Halt", "any state but HALTED")));
  }

  /** The messages every state handles the same way. */
  private Behavior<Command> common(BehaviorBuilder<Command> b) {
    return b.onMessage(GetCounters.class, this::onGetCounters)
        .onMessage(Park.class, m -> onPark())
        .onMessage(Answer.class, this::onAnswer)
        .onMessage(Tick.class, this::onTick)
        .onMessage(StoresApplied.class, this::onStoresApplied)
        .onMessage(StoresReplied.class, this::onStoresReply)
        .build();
  }

  private Behavior<Command> become(VcpuState s) {
    state = s;
    return switch (s) {
      case STARTING -> starting;
      case IDLE -> idle;
      case RUNNING -> running;
      case AWAITING_FAULT -> awaitingFault;
      case HALTED -> halted;
    };
  }

  // ---- Lifecycle commands ---------------------------------------------------------------------

  private Behavior<Command> onRunBatch(RunBatch m) {
    String bad = validate(m);
    if (bad != null) {
      return reject(m.replyTo(), m.batchId(), bad);
    }
    if (joined(m)) {
      return Behaviors.same();
    }
    if (m.batchId() <= lastAcceptedBatchId) {
      return reject(
          m.replyTo(),
          m.batchId(),
          "batchId: "
              + m.batchId()
              + " is not above the last accepted batch id "
              + lastAcceptedBatchId
              + "; allowed: a new, increasing id (a retry of an outstanding or the last completed"
              + " batch is answered)");
    }
    int outstanding = outstandingBatches();
    if (outstanding >= setup.maxOutstandingBatches()) {
      return reject(
          m.replyTo(),
          m.batchId(),
          "batches: "
              + outstanding
              + " outstanding; allowed at most "
              + setup.maxOutstandingBatches()
              + " (send more after a BatchDone)");
    }
    lastAcceptedBatchId = m.batchId();
    queue.add(new Batch(m.batchId(), List.copyOf(m.accesses()), m.replyTo()));
    // Idle --RunBatch--> Running
    return state == VcpuState.IDLE ? runLoop() : Behaviors.same();
  }

  private static String validate(RunBatch m) {
    List<AccessOp> a = m.accesses();
    if (a == null || a.isEmpty() || a.size() > MAX_BATCH_ACCESSES) {
      return "accesses: "
          + (a == null ? "null" : a.size() + " accesses")
          + " is out of range; allowed 1 to "
          + MAX_BATCH_ACCESSES;
    }
    for (int i = 0; i < a.size(); i++) {
      if (a.get(i) == null || a.get(i).kind() == null) {
        return "accesses[" + i + "]: " + a.get(i) + " has no kind; allowed LOAD, STORE or IFETCH";
      }
    }
    return null;
  }

  /** A retry of an outstanding or the last completed batch joins it or is answered again. */
  private boolean joined(RunBatch m) {
    long id = m.batchId();
    if (cur != null && !cur.trace && cur.batchId == id) {
      cur.replyTos.add(m.replyTo());
      return true;
    }
    for (Batch b : queue) {
      if (b.batchId == id) {
        b.replyTos.add(m.replyTo());
        return true;
      }
    }
    if (flushes.joinWaiting(id, m.replyTo())) {
      return true;
    }
    if (lastDone != null && lastDone.batchId() == id) {
      m.replyTo().tell(lastDone);
      return true;
    }
    return false;
  }

  private int outstandingBatches() {
    return queue.size() + (cur != null && !cur.trace ? 1 : 0);
  }

  private Behavior<Command> onHaltAtBoundary(Halt m) {
    haltWaiters.add(m.replyTo());
    return Behaviors.same();
  }

  private Behavior<Command> onHaltNow(Halt m) {
    haltWaiters.add(m.replyTo());
    return haltNow();
  }

  /** Any state --Halt--> Halted: every access not executed fails, the stores are flushed. */
  private Behavior<Command> haltNow() {
    boolean storeDone = requests.kind() == Kind.RC; // only its missed-C verdict was outstanding
    // a KVM_REQ_TLB_FLUSH pending or in flight is not dropped: a halted vCPU never enters the
    // guest again, so its shadow entries are flushed now (else, under Q8, a writable mapping of a
    // just-merged KSM frame would stay in the HostMmu for good)
    boolean flush =
        pendingFlush || requests.kind() == Kind.FLUSH || requests.kind() == Kind.STATE_FLUSH;
    if (requests.kind() != null) {
      requests.clear();
    }
    if (storeDone && op != null) {
      if (rec != null) {
        rec.completed();
      }
      cur.completed++;
      cur.pos++;
      op = null;
    }
    afterFlush = null;
    flushes.stopWaitingForRoom();
    TraceOp t = traces.take();
    states.halted();
    core.resetFault();
    releaseLease();
    if (op != null) {
      failCurrent("halted during the access");
    }
    while (cur != null || !queue.isEmpty()) {
      if (cur == null) {
        cur = queue.poll();
      }
      while (cur.pos < cur.ops.size()) {
        AccessOp a = cur.ops.get(cur.pos++);
        recordFailure(a, "halted before the access ran");
      }
      finishBatch();
    }
    flushes.barrier();
    if (t != null) {
      rec = null;
      t.rec.failed("halted during the traced access");
      traces.answer(t);
    }
    Behavior<Command> b = become(VcpuState.HALTED);
    if (flush) {
      pendingFlush = true;
      haltedFlush(); // Halt is acknowledged once the flush is done
    } else {
      ackHalt();
    }
    return b;
  }

  private void ackHalt() {
    for (ActorRef<ControlReply> r : haltWaiters) {
      r.tell(new Acknowledged("Halt", VcpuState.HALTED));
    }
    haltWaiters.clear();
  }

  /**
   * Halted: a pending KVM_REQ_TLB_FLUSH is processed at once ({@link HostMmu.FlushVcpu}), since
   * there is no next guest entry; one at a time, a request arriving meanwhile is sent after it.
   */
  private void haltedFlush() {
    if (requests.kind() != null) {
      pendingFlush = true; // sent when the one in flight is answered
      return;
    }
    pendingFlush = false;
    afterFlush = this::haltedFlushDone;
    requests.send(Kind.FLUSH, host, id -> new HostMmu.FlushVcpu(id, vcpu, answers.narrow()));
  }

  private Behavior<Command> haltedFlushDone() {
    ackHalt();
    if (pendingFlush) {
      haltedFlush();
    }
    return Behaviors.same();
  }

  private Behavior<Command> notAllowed(ActorRef<ControlReply> replyTo, String cmd, String allowed) {
    return notAllowed(replyTo, -1, cmd, allowed);
  }

  private Behavior<Command> notAllowed(
      ActorRef<? super Rejected> replyTo, long id, String cmd, String allowed) {
    replyTo.tell(
        new Rejected(
            id, state, cmd + ": not allowed in state " + state + "; allowed in " + allowed));
    return Behaviors.same();
  }

  // ---- SetState -------------------------------------------------------------------------------

  /** Idle --SetState--&gt; Running: forward the changes to the GuestMmu. */
  private Behavior<Command> onSetState(SetState m) {
    if (states.replayed(m)) {
      return Behaviors.same();
    }
    String invalid = StateChanges.invalid(m.changes());
    if (invalid != null) {
      m.replyTo().tell(new Rejected(m.requestId(), state, invalid));
      return Behaviors.same();
    }
    states.begin(m);
    List<VcpuStateChange> changes = List.copyOf(m.changes());
    requests.send(
        Kind.SET_STATE,
        guest,
        id -> new GuestMmu.SetVcpuState(id, vcpu, changes, answers.narrow()));
    return become(VcpuState.RUNNING);
  }

  /** SetState outside Idle: a retry of the one in progress joins it, else rejected. */
  private Behavior<Command> onSetStateNotAllowed(SetState m) {
    if (states.joined(m) || states.replayed(m)) {
      return Behaviors.same();
    }
    return notAllowed(m.replyTo(), m.requestId(), "SetState", "IDLE");
  }

  // ---- TraceAccess ----------------------------------------------------------------------------

  /** Idle --TraceAccess--&gt; Running: read R/C, then run the access with the recorder. */
  private Behavior<Command> onTraceAccess(TraceAccess m) {
    if (traces.replayed(m)) {
      return Behaviors.same();
    }
    AccessOp a = m.op();
    if (a == null || a.kind() == null) {
      m.replyTo()
          .tell(
              new Rejected(
                  m.requestId(),
                  state,
                  "op: " + a + " has no kind; allowed LOAD, STORE or IFETCH"));
      return Behaviors.same();
    }
    traces.begin(new TraceOp(m.requestId(), a, m.replyTo()));
    long ea = a.ea();
    requests.send(Kind.TRACE_RC, guest, id -> new GuestMmu.ReadRc(id, vcpu, ea, answers.narrow()));
    return become(VcpuState.RUNNING);
  }

  /** TraceAccess outside Idle: a retry of the one in progress joins it, else rejected. */
  private Behavior<Command> onTraceNotAllowed(TraceAccess m) {
    if (traces.joined(m)) {
      return Behaviors.same();
    }
    if (traces.replayed(m)) {
      return Behaviors.same();
    }
    return notAllowed(m.replyTo(), m.requestId(), "TraceAccess", "IDLE");
  }

  /** R/C before (then run the access) or after (then read the loaded word); null: timed out. */
  private Behavior<Command> onTraceRc(Object r) {
    AccessTrace.Rc rc = null;
    if (r instanceof GuestMmu.RcOf o) {
      rc = new AccessTrace.Rc(o.r(), o.c());
    } else if (r != null && !(r instanceof GuestMmu.Rejected)) {
      ctx.getLog().warn("vm {} vcpu {}: traced R/C not read: {}", vm, vcpu, refusal(r));
    }
    TraceOp t = traces.current();
    if (t.phase == TracePhase.RC_BEFORE) {
      t.rec.rcBefore(rc);
      t.phase = TracePhase.EXECUTING;
      rec = t.rec;
      cur = t.batch;
      return enterGuest(this::runLoop);
    }
    t.rec.rcAfter(rc);
    if (t.rec.isCompleted() && t.op.kind() != Access.STORE && t.rec.hostPfn() >= 0) {
      t.phase = TracePhase.WORD;
      int pfn = (int) t.rec.hostPfn();
      int offset = (int) (t.op.ea() & 0xFFF);
      requests.send(
          Kind.TRACE_WORD,
          frames,
          id -> new PageFrame.ReadWord(id, vm, pfn, offset, answers.narrow()));
      return Behaviors.same();
    }
    return traceDone();
  }

  /** The traced access and its store are done: read R/C after it. */
  private void traceStoresApplied() {
    TraceOp t = traces.current();
    if (t == null) {
      return; // halted meanwhile: already answered
    }
    t.phase = TracePhase.RC_AFTER;
    long ea = t.op.ea();
    requests.send(Kind.TRACE_RC, guest, id -> new GuestMmu.ReadRc(id, vcpu, ea, answers.narrow()));
  }

  private Behavior<Command> onTraceWord(Object r) {
    if (r instanceof PageFrame.WordRead w) {
      traces.current().rec.loadedValue(w.value());
    } else if (r != null) {
      ctx.getLog().warn("vm {} vcpu {}: traced load value not read: {}", vm, vcpu, refusal(r));
    }
    return traceDone();
  }

  /** Answers the trace; Running --AccessTraced--&gt; Idle (or on with what was queued). */
  private Behavior<Command> traceDone() {
    TraceOp t = traces.take();
    traces.answer(t);
    return runLoop();
  }

  /**
   * The GuestMmu's answer: on success drop the TLB and the VSIDs, take the mode, flush the host.
   */
  private Behavior<Command> onVcpuStateSet(Object r) {
    if (!(r instanceof GuestMmu.VcpuStateSet s)) {
      return stateOpDone(new Rejected(states.requestId(), VcpuState.IDLE, refusal(r)));
    }
    mode = s.mode();
    core.setMode(mode);
    cpu.setMsr((mode & 4) != 0, (mode & 2) != 0, (mode & 1) != 0);
    tlb.flush();
    esidToGvsid.clear();
    // kvmppc_mmu_pte_flush(vcpu, 0, 0): also satisfies a pending KVM_REQ_TLB_FLUSH
    pendingFlush = false;
    requests.send(Kind.STATE_FLUSH, host, id -> new HostMmu.FlushVcpu(id, vcpu, answers.narrow()));
    return Behaviors.same();
  }

  private Behavior<Command> onStateFlushed(Object r) {
    if (r instanceof HostMmu.Flushed f) {
      noteEpoch(f.epoch());
    } else {
      ctx.getLog().warn("vm {} vcpu {}: FlushVcpu after SetState not done: {}", vm, vcpu, r);
      pendingFlush = true; // flushed at the next guest entry
    }
    return stateSet();
  }

  private Behavior<Command> stateSet() {
    states.done(mode);
    // Running --StateSet--> Idle, or on with the batches or Halt received meanwhile
    return runLoop();
  }

  /** Answers the SetState in progress and goes back to Idle (or on, if work waited). */
  private Behavior<Command> stateOpDone(StateReply reply) {
    states.answer(reply);
    // Running --StateSet--> Idle, or on with the batches or Halt received meanwhile
    return runLoop();
  }

  private Behavior<Command> reject(ActorRef<BatchReply> replyTo, long id, String reason) {
    replyTo.tell(new Rejected(id, state, reason));
    return Behaviors.same();
  }

  private Behavior<Command> onGetCounters(GetCounters m) {
    m.replyTo()
        .tell(
            new StatusReport(
                state, outstandingBatches(), knownEpoch, buffer.size(), core.counts()));
    return Behaviors.same();
  }

  /** {@link HostMmu.SubscribeTlb} with {@code epoch}; its answer is not counted in SHOOTDOWNS. */
  private void subscribe(long epoch) {
    subscribing = true;
    host.tell(new HostMmu.SubscribeTlb(vcpu, epoch, answers.narrow()));
  }

  /** Parks now when nothing is in flight (see the class comment), else checks again later. */
  private Behavior<Command> onPark() {
    boolean quiet =
        (state == VcpuState.IDLE || state == VcpuState.HALTED)
            && requests.kind() == null
            && op == null
            && flushes.quiet()
            && !states.inProgress()
            && traces.current() == null
            && haltWaiters.isEmpty();
    if (!sharded) {
      return Behaviors.same();
    }
    if (!quiet) {
      timers.startSingleTimer(PARK, PARK, setup.tickInterval());
      return Behaviors.same();
    }
    Counts c = core.counts();
    esidToGvsid.trim();
    VcpuParking.get(ctx.getSystem())
        .park(
            entityId(vm, vcpu),
            c,
            new Parked(
                state,
                mode,
                knownEpoch,
                pendingFlush,
                c,
                tlb.snapshot(knownEpoch),
                cWatch,
                esidToGvsid,
                lastAcceptedBatchId,
                lastDone,
                states.last(),
                traces.last(),
                cur,
                List.copyOf(queue)));
    return Behaviors.stopped();
  }

  // ---- The access loop ------------------------------------------------------------------------

  /**
   * Executes accesses until one needs a reply, the batches run out, or a Halt is due. Returns the
   * state to be in.
   */
  private Behavior<Command> runLoop() {
    while (true) {
      if (traces.current() != null && traces.current().phase.compareTo(TracePhase.EXECUTING) > 0) {
        return become(VcpuState.RUNNING); // the traced access's last reads are in flight
      }
      if (!haltWaiters.isEmpty()) {
        return haltNow();
      }
      if (cur == null) {
        cur = queue.poll();
        if (cur == null) {
          // Running --no batch left--> Idle
          return become(VcpuState.IDLE);
        }
      }
      if (cur.pos == cur.ops.size()) {
        finishBatch();
        continue;
      }
      if (pendingFlush) {
        // the start of a batch (the engine's quantum), or a KVM_REQ_TLB_FLUSH that arrived
        // mid-batch: kvm_flush_remote_tlbs kicked the vCPU out of the guest (an IPI), so the
        // request is processed at the very next guest entry, before another guest access
        return enterGuest(this::runLoop);
      }
      if (flushes.mustWaitForRoom()) {
        return become(VcpuState.RUNNING);
      }
      AccessOp a = cur.ops.get(cur.pos);
      int i = core.begin(a.kind(), a.ea(), knownEpoch);
      if (i >= 0) {
        if (rec != null) {
          rec.tlbHit(tlb.pfn(i));
        }
        store(a, tlb.pfn(i));
        if (core.watchedStore(tlb.prot(i))) {
          op = a;
          return readC();
        }
        if (rec != null) {
          rec.completed();
        }
        cur.completed++;
        cur.pos++;
        continue;
      }
      op = a;
      forcedByFlush = false;
      pfnCow = false;
      staleLookups = 0;
      return missPath();
    }
  }

  private void store(AccessOp a, int pfn) {
    if (a.kind() == Access.STORE) {
      buffer.add(pfn, (int) (a.ea() & 0xFFF), a.value());
    }
  }

  /** The host HTAB search for the access in progress (the hardware, after a TLB miss). */
  private Behavior<Command> missPath() {
    if (pendingFlush) {
      // a flush requested while this access was under way (the guest VSID asked, a lookup
      // dropped): the vCPU was kicked out of the guest; it re-enters before the HTAB search
      forcedByFlush = !pfnCow;
      return enterGuest(this::missPath);
    }
    long esid = op.ea() >>> 28;
    if (!esidToGvsid.containsKey(esid)) {
      requests.send(
          Kind.VSID, guest, id -> new GuestMmu.EsidToVsid(id, vcpu, esid, answers.narrow()));
      return become(VcpuState.RUNNING);
    }
    long gvsid = esidToGvsid.get(esid);
    if (gvsid == VsidTags.NO_VSID) {
      return fault(core.noHpte());
    }
    requests.send(
        Kind.LOOKUP, host, id -> new HostMmu.Lookup(id, vcpu, gvsid, op.ea(), answers.narrow()));
    return become(VcpuState.RUNNING);
  }

  private void cacheGvsid(long esid, long gvsid) {
    if (esidToGvsid.size() >= ESID_CACHE_MAX && !esidToGvsid.containsKey(esid)) {
      esidToGvsid.clear();
    }
    esidToGvsid.put(esid, gvsid);
  }

  private Behavior<Command> accessCompleted() {
    releaseLease();
    if (rec != null) {
      rec.completed();
    }
    cur.completed++;
    cur.pos++;
    op = null;
    return runLoop();
  }

  private Behavior<Command> failAccess(String cause) {
    failCurrent(cause);
    return runLoop();
  }

  private void failCurrent(String cause) {
    releaseLease();
    if (rec != null) {
      rec.failed(cause);
    }
    recordFailure(op, cause);
    cur.pos++;
    op = null;
  }

  private void recordFailure(AccessOp a, String cause) {
    String text = core.fail(vm, vcpu, a.kind(), a.ea(), cause);
    cur.failed++;
    if (cur.failures.size() < MAX_FAILURES_KEPT) {
      cur.failures.add(text);
    }
  }

  /** The current batch is over: BatchDone once its stores are applied. */
  private void finishBatch() {
    Batch b = cur;
    cur = null;
    if (b.trace && traces.current() != null) {
      rec = null;
      traces.current().phase = TracePhase.STORES;
    }
    flushes.doneAfterStores(b);
  }

  /** BatchDone with the counters as they are now (its store flush counted). */
  private void sendDone(Batch b) {
    if (b.trace) {
      traceStoresApplied();
      return;
    }
    BatchDone done =
        new BatchDone(b.batchId, b.completed, b.failed, List.copyOf(b.failures), core.counts());
    lastDone = done;
    b.replyTos.forEach(r -> r.tell(done));
  }

  /** Guest entry: a pending KVM_REQ_TLB_FLUSH is processed first (spec 5.7). */
  private Behavior<Command> enterGuest(Supplier<Behavior<Command>> next) {
    if (!pendingFlush) {
      return next.get();
    }
    pendingFlush = false;
    afterFlush = next;
    requests.send(Kind.FLUSH, host, id -> new HostMmu.FlushVcpu(id, vcpu, answers.narrow()));
    return become(VcpuState.RUNNING);
  }

  // ---- Faults ---------------------------------------------------------------------------------

  private Behavior<Command> fault(HostFault f) {
    String livelocked = core.admit(forcedByFlush);
    forcedByFlush = false;
    pfnCow = false;
    if (livelocked != null) {
      return failAccess(livelocked);
    }
    if (events.wants(MeshEvent.Kind.FAULT, vm)) {
      events.publish(
          new MeshEvent(
              MeshEvent.Kind.FAULT,
              MeshEvent.NONE,
              vm,
              vcpu,
              f.ea(),
              MeshEvent.NONE,
              MeshEvent.NONE,
              VcpuCore.exitName(f) + " " + f.access().name().toLowerCase(java.util.Locale.ROOT)));
    }
    if (rec != null) {
      rec.fault(f);
    }
    return step(() -> core.onFault(f, cpu));
  }

  /** Runs one core call of the fault handler and acts on the step it returns. */
  private Behavior<Command> step(Supplier<FaultStep> core) {
    FaultStep s;
    try {
      s = core.get();
    } catch (RuntimeException e) {
      ctx.getLog()
          .error(
              "vm {} vcpu {} at ea 0x{}: the fault handler failed",
              vm,
              vcpu,
              Long.toHexString(op.ea()),
              e);
      return abortFault("fault handler failed: " + e);
    }
    if (s instanceof FaultStep.Xlate x) {
      requests.send(
          Kind.XLATE,
          guest,
          id -> new GuestMmu.Xlate(id, vcpu, x.ea(), x.access(), x.relocated(), answers.narrow()));
    } else if (s instanceof FaultStep.GfnToPfn g) {
      pfnGfn = g.gfn();
      requests.send(
          Kind.PFN,
          frames,
          id ->
              new PageFrame.GfnToPfnProt(id, vm, vcpu, g.gfn(), g.writeFault(), answers.narrow()));
    } else if (s instanceof FaultStep.UnmapPage u) {
      unmapVpage = u.pte().vpage();
      requests.send(
          Kind.UNMAP,
          host,
          id -> new HostMmu.UnmapPage(id, vcpu, u.pte(), u.vsid64k(), answers.narrow()));
    } else if (s instanceof FaultStep.MapPage m) {
      mapEa = m.pte().eaddr();
      mapPfn = m.pfn();
      requests.send(
          Kind.MAP,
          host,
          id ->
              new HostMmu.MapPage(
                  id,
                  vcpu,
                  m.pte(),
                  m.gvsid(),
                  m.pfn(),
                  m.writable(),
                  m.guardSeq(),
                  answers.narrow()));
    } else if (s instanceof FaultStep.Reflect r) {
      releaseLease();
      if (rec != null) {
        rec.reflected(r);
      }
      // the guest is entered (a pending flush processed) before its kernel takes the interrupt
      return enterGuest(() -> reflect(r));
    } else if (s instanceof FaultStep.MmioExit mmio) {
      releaseLease();
      if (rec != null) {
        rec.mmio(mmio.paddr());
      }
      return enterGuest(this::accessCompleted);
    } else if (s instanceof FaultStep.Resume res) {
      // the lease (and its page reference) is kept through the retry: see releaseLease
      // AwaitingFault --Resume--> Running (retry the access); a flush served at this entry that
      // the fault did not request itself (no COW break) forces the retry to fault again
      forcedByFlush = pendingFlush && !pfnCow;
      return enterGuest(this::missPath);
    } else if (s instanceof FaultStep.Failed f) {
      releaseLease();
      return enterGuest(() -> failAccess(f.cause()));
    }
    // Running --HostFault--> AwaitingFault
    return become(VcpuState.AWAITING_FAULT);
  }

  /** Delivers a reflected interrupt to the guest kernel model. */
  private Behavior<Command> reflect(FaultStep.Reflect r) {
    long ea = op.ea();
    requests.send(
        Kind.EXCEPTION,
        guest,
        id ->
            new GuestMmu.HandleException(
                id, vcpu, r.vector(), r.dsisr(), r.msrBits(), ea, answers.narrow()));
    return become(VcpuState.AWAITING_FAULT);
  }

  private Behavior<Command> abortFault(String cause) {
    core.resetFault();
    releaseLease();
    return failAccess(cause);
  }

  /**
   * Releases the fault's memslot lease and with it the page reference of its {@code GfnToPfnProt}
   * answer ({@code srcu_read_unlock}, {@code kvm_release_pfn_clean}). After a {@code Resume} it is
   * released only once the retried access has executed or failed, or when the answer of its next
   * fault's {@code GfnToPfnProt} replaces it: the kernel's guest retries nanoseconds after the map,
   * before ksmd could write-protect the page, and holding the reference through the retry's round
   * trips is what keeps ksmd off the page here ({@code PageFrame}'s {@code FaultPageRefs}); without
   * it a wall-clock ksmd re-merged a COW copy before the store that broke it, again and again.
   */
  private void releaseLease() {
    if (lease != NONE) {
      frames.tell(new PageFrame.ReleaseLease(vm, lease));
      lease = NONE;
    }
  }

  // ---- Requests and replies -------------------------------------------------------------------

  /**
   * The timeout tick: the outstanding request and the store flush in flight are checked against
   * their deadlines; the tick stops when neither is outstanding.
   */
  private Behavior<Command> onTick(Tick m) {
    boolean changed = false;
    try {
      if (requests.tickStarted()) {
        requestTimedOut();
        changed = true;
      }
      StoreFlushes.Deadline d = flushes.checkDeadline(requests.ticks());
      if (d != StoreFlushes.Deadline.NOT_DUE) {
        if (d == StoreFlushes.Deadline.GIVEN_UP) {
          afterStoreFlush();
        }
        changed = true;
      }
    } finally {
      requests.tickEnded();
    }
    requests.stopTickUnless(flushes.inFlight());
    // every transition went through become(), which keeps state and behavior together
    return changed ? become(state) : Behaviors.same();
  }

  /** The outstanding request is past its deadline: send it again, or give up. */
  private Behavior<Command> requestTimedOut() {
    core.count(Counter.TIMEOUTS);
    if (requests.retry()) {
      core.count(Counter.RETRIES);
      return Behaviors.same();
    }
    Kind kind = requests.kind();
    String why = requests.timeoutReason(timeout);
    requests.clear();
    ctx.getLog()
        .warn(
            "vm {} vcpu {} at ea 0x{}: {}",
            vm,
            vcpu,
            op == null ? "-" : Long.toHexString(op.ea()),
            why);
    return switch (kind) {
      case MODE -> {
        haltWaiters.add(ctx.getSystem().ignoreRef());
        Behavior<Command> b = haltNow();
        ctx.getLog().error("vm {} vcpu {}: halted, the guest MMU never told the mode", vm, vcpu);
        yield b;
      }
      case VSID, LOOKUP -> failAccess(why);
      case RC -> accessCompleted(); // the store is done; only the missed-C count is unknown
      case SET_STATE ->
          stateOpDone(
              new Rejected(
                  states.requestId(),
                  VcpuState.IDLE,
                  why + " (the changes may or may not be applied; retry the same requestId)"));
      case STATE_FLUSH -> {
        pendingFlush = true; // the guest state is set; the host flush happens at the next entry
        yield stateSet();
      }
      case TRACE_RC -> onTraceRc(null); // that part of the trace stays unset
      case TRACE_WORD -> onTraceWord(null);
      case FLUSH -> {
        Supplier<Behavior<Command>> next = afterFlush;
        afterFlush = null;
        yield next.get();
      }
      default -> abortFault(why);
    };
  }

  /** Dispatches a reply of another actor by the outstanding request's kind and id. */
  private Behavior<Command> onAnswer(Answer a) {
    Object r = a.reply();
    if (r instanceof HostMmu.TlbShootdown t) {
      return onShootdown(t);
    }
    long id = requestIdOf(r);
    boolean matches =
        requests.kind() == Kind.MODE
            ? (r instanceof GuestMmu.ModeOf || r instanceof GuestMmu.Rejected)
            : requests.kind() != null && id == requests.id();
    if (!matches) {
      return stale(r);
    }
    Kind kind = requests.kind();
    requests.clear();
    return switch (kind) {
      case MODE -> onMode(r);
      case VSID -> onVsid(r);
      case LOOKUP -> onLookedUp(r);
      case FLUSH -> onFlushed(r);
      case XLATE -> onTranslated(r);
      case PFN -> onPfnAnswered(r);
      case UNMAP -> onUnmapped(r);
      case MAP -> onMapped(r);
      case EXCEPTION -> onExceptionHandled(r);
      case RC -> onRcRead(r);
      case SET_STATE -> onVcpuStateSet(r);
      case STATE_FLUSH -> onStateFlushed(r);
      case TRACE_RC -> onTraceRc(r);
      case TRACE_WORD -> onTraceWord(r);
    };
  }

  /** A late or duplicate reply: ignored, but a lease it carries is released. */
  private Behavior<Command> stale(Object r) {
    if (r instanceof PageFrame.PfnAnswered p && p.lease() != lease) {
      frames.tell(new PageFrame.ReleaseLease(vm, p.lease()));
    }
    ctx.getLog().debug("vm {} vcpu {}: late reply ignored: {}", vm, vcpu, r);
    return Behaviors.same();
  }

  /** Notes the epoch of a HostMmu reply; false when it is below the known one (re-subscribed). */
  private boolean noteEpoch(long epoch) {
    if (epoch > knownEpoch) {
      knownEpoch = epoch;
      return true;
    }
    if (epoch < knownEpoch) {
      subscribe(knownEpoch);
      return false;
    }
    return true;
  }

  private Behavior<Command> onMode(Object r) {
    if (r instanceof GuestMmu.ModeOf m) {
      mode = m.mode();
      core.setMode(mode);
      cpu.setMsr((mode & 4) != 0, (mode & 2) != 0, (mode & 1) != 0);
      // Starting --ModeOf--> Idle (or Running with queued batches)
      become(VcpuState.IDLE);
      return runLoop();
    }
    ctx.getLog().error("vm {} vcpu {}: no mode, halting: {}", vm, vcpu, refusal(r));
    haltWaiters.add(ctx.getSystem().ignoreRef());
    return haltNow();
  }

  private Behavior<Command> onVsid(Object r) {
    if (r instanceof GuestMmu.VsidOf v) {
      cacheGvsid(op.ea() >>> 28, v.gvsid());
      return missPath();
    }
    return failAccess(refusal(r));
  }

  private Behavior<Command> onLookedUp(Object r) {
    if (!(r instanceof HostMmu.LookedUp l)) {
      return failAccess(refusal(r));
    }
    if (pendingFlush) {
      // a flush was requested after the lookup went out: the HostMmu keeps this vCPU's old HPTEs
      // until its FlushVcpu (Q8), so the reply may name a frame since merged and freed; it is
      // dropped, and the access looks up again after the guest entry (missPath flushes first)
      noteEpoch(l.epoch());
      return missPath();
    }
    if (!noteEpoch(l.epoch())) {
      if (++staleLookups > setup.maxAttempts()) {
        return failAccess("lookup: " + staleLookups + " replies older than epoch " + knownEpoch);
      }
      return missPath();
    }
    int prot = core.onLookup(l.slot(), l.protection(), l.pfn(), knownEpoch);
    if (prot >= 0) {
      if (rec != null) {
        rec.hostHpteHit(l.pfn());
      }
      store(op, l.pfn());
      if (core.watchedStore(prot)) {
        return readC();
      }
      return accessCompleted();
    }
    return fault(core.pendingFault());
  }

  /**
   * A store completed through a TLB entry of a watched page ({@link CBitWatch}, Q4): read the guest
   * C bit now ({@link GuestMmu.ReadRc}), as the sequential engine does, before the access counts as
   * completed.
   */
  private Behavior<Command> readC() {
    long ea = op.ea();
    requests.send(Kind.RC, guest, id -> new GuestMmu.ReadRc(id, vcpu, ea, answers.narrow()));
    return become(VcpuState.RUNNING);
  }

  private Behavior<Command> onRcRead(Object r) {
    if (r instanceof GuestMmu.RcOf rc) {
      core.onCRead(true, rc.c(), knownEpoch);
    } else if (r instanceof GuestMmu.Rejected) {
      core.onCRead(false, false, knownEpoch); // no guest HPTE translates ea now
    } else {
      ctx.getLog().warn("vm {} vcpu {}: C bit not read: {}", vm, vcpu, refusal(r));
    }
    return accessCompleted();
  }

  private Behavior<Command> onFlushed(Object r) {
    if (r instanceof HostMmu.Flushed f) {
      noteEpoch(f.epoch());
    } else {
      ctx.getLog().warn("vm {} vcpu {}: FlushVcpu not done: {}", vm, vcpu, refusal(r));
    }
    Supplier<Behavior<Command>> next = afterFlush;
    afterFlush = null;
    return next.get();
  }

  private Behavior<Command> onTranslated(Object r) {
    if (!(r instanceof GuestMmu.Translated t)) {
      return abortFault(refusal(r));
    }
    cacheGvsid(op.ea() >>> 28, t.gvsid());
    if (rec != null) {
      rec.xlate(t.result());
    }
    return step(() -> core.onXlated(t.result(), t.gvsid()));
  }

  private Behavior<Command> onPfnAnswered(Object r) {
    if (!(r instanceof PageFrame.PfnAnswered p)) {
      return abortFault(refusal(r));
    }
    releaseLease(); // the previous fault's of this access, kept through its retry
    lease = p.lease();
    pfnCow = p.result().cow();
    if (rec != null) {
      rec.gfnToPfn(pfnGfn, p.result());
    }
    return step(() -> core.onPfn(p.result()));
  }

  private Behavior<Command> onUnmapped(Object r) {
    if (!(r instanceof HostMmu.Unmapped u)) {
      return abortFault(refusal(r));
    }
    noteEpoch(u.epoch());
    if (rec != null) {
      rec.unmapped(unmapVpage);
    }
    return step(core::onUnmapped);
  }

  private Behavior<Command> onMapped(Object r) {
    if (!(r instanceof HostMmu.Mapped m)) {
      return abortFault(refusal(r));
    }
    noteEpoch(m.epoch());
    if (rec != null) {
      rec.mapped(mapPfn, m.installed(), m.readOnly());
    }
    return step(() -> core.onMapped(m.installed(), m.readOnly(), m.markDirty(), mapEa));
  }

  private Behavior<Command> onExceptionHandled(Object r) {
    if (!(r instanceof GuestMmu.ExceptionHandled e)) {
      return failAccess(refusal(r));
    }
    if (e.segmentsChanged()) {
      esidToGvsid.clear();
    }
    if (e.retry()) {
      // AwaitingFault --ExceptionHandled(retry)--> Running (the guest was entered before the
      // interrupt was delivered; a flush requested since is processed here)
      return enterGuest(this::missPath);
    }
    return failAccess(e.failure() == null ? "the guest kernel gave up" : e.failure());
  }

  // ---- TLB shootdowns and stores --------------------------------------------------------------

  /** {@code tlbie; tlbsync}: empty the TLB now, ack once the earlier stores are applied. */
  private Behavior<Command> onShootdown(HostMmu.TlbShootdown t) {
    if (t.epoch() > knownEpoch) {
      knownEpoch = t.epoch();
    }
    if (t.flushRequested()) {
      // kvm_flush_remote_tlbs (Q8): KVM_REQ_TLB_FLUSH, processed at the next guest entry
      pendingFlush = true;
    }
    if (subscribing) {
      // a subscription's answer removes nothing from the TLB: not counted. An epoch below the
      // known one (a restored vCPU's) means the HostMmu restarted: the restored entries must go
      subscribing = false;
      if (t.epoch() < knownEpoch) {
        tlb.flush();
        subscribe(knownEpoch);
      }
    } else {
      core.count(Counter.SHOOTDOWNS);
    }
    flushes.ackAfterStores(t.epoch(), t.ack());
    if (t.flushRequested() && state == VcpuState.HALTED) {
      haltedFlush(); // no next guest entry: flush now, after the ack
    }
    return Behaviors.same();
  }

  /**
   * A reply through the store adapter: {@code StoresDone}, or a {@code PageFrame.Rejected}, which
   * is one type for every page-frame request, so the adapter (the most recently registered one
   * matching its class) receives also those of {@code GfnToPfnProt} and {@code ReadWord}. A store
   * flush's id is in its own range ({@link StoreFlushes#FLUSH_IDS}), so the id tells them apart:
   * the store flush's is a whole batch refused, any other goes the way of every reply.
   */
  private Behavior<Command> onStoresReply(StoresReplied m) {
    if (m.reply() instanceof PageFrame.StoresDone d) {
      return onStoresApplied(new StoresApplied(d.requestId(), d.applied(), d.refused()));
    }
    if (m.reply() instanceof PageFrame.Rejected x
        && (x.requestId() & StoreFlushes.FLUSH_IDS) == 0) {
      return onAnswer(new Answer(x));
    }
    long id = m.reply() instanceof PageFrame.Rejected x ? x.requestId() : NONE;
    return onStoresApplied(new StoresApplied(id, 0, -1));
  }

  private Behavior<Command> onStoresApplied(StoresApplied m) {
    return flushes.applied(m) ? afterStoreFlush() : Behaviors.same();
  }

  /** A store flush ended: an access loop that waited for room in the buffer runs again. */
  private Behavior<Command> afterStoreFlush() {
    return flushes.roomMade(state == VcpuState.RUNNING) ? runLoop() : Behaviors.same();
  }
}
