package org.mmumesh.vcpu.actor;

import java.util.Objects;
import java.util.function.IntFunction;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.BehaviorBuilder;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.ShardCoordinator.ShardAllocationStrategy;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.AccessTrace;
import org.mmumesh.common.Counter;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.VcpuCore;
import org.mmumesh.vcpu.VcpuSetup;
import org.mmumesh.vcpu.actor.AccessDriver.Next;
import org.mmumesh.vcpu.actor.OutstandingRequest.Kind;
import org.mmumesh.vcpu.actor.VcpuParts.Parked;
import org.mmumesh.vcpu.actor.VcpuWork.Batch;

/**
 * One vCPU as an actor (architecture sections 2-4): it executes workload batches through its {@link
 * VcpuCore}, the pure core the sequential engine drives too, so both engines take every decision
 * and count of an access the same way by construction. This class is the lifecycle and the message
 * dispatch; the plain parts it owns ({@link VcpuParts}) hold the rest, above all the {@link
 * AccessDriver} (the access loop and the fault-step driver: the core's needs answered by messages
 * to {@link GuestMmu}, {@link HostMmu} and {@link PageFrame}). Peers answer through {@link
 * PeerReplies}, one typed adapter per reply family. Its protocol is {@link VcpuProtocol}; the model
 * step by step is docs/design.md's vCPU section.
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
 * {@code Starting} waits for the vCPU's translation mode ({@link GuestMmu.GetMode}); batches
 * received meanwhile are queued. A command illegal in the current state is answered {@link
 * Rejected} naming the state, never ignored. Halt takes effect at the next access boundary and
 * fails every access not yet executed ("halted"), so every access of every accepted batch is
 * answered once (invariant 6). TLB shootdowns are handled in every state, also while a reply is
 * outstanding. The actor is supervised with <em>resume</em>; entity {@link #ENTITY_KEY}, id {@code
 * vm-<v>/vcpu-<n>} ({@link #entityId}); idle sharded vCPUs park ({@link VcpuParking}).
 */
public final class Vcpu implements VcpuProtocol {

  /** The sharded entity type; entity ids are {@code vm-<v>/vcpu-<n>}. */
  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "Vcpu");

  /** The timeout tick (one periodic timer while a request or a store flush is outstanding). */
  private record Tick() implements Internal, NoSerializationVerificationNeeded {}

  private static final Tick TICK = new Tick();

  /** Sharding's stop message: park (see {@link VcpuParking}), now or once nothing is in flight. */
  record Park() implements Internal, NoSerializationVerificationNeeded {}

  static final Park PARK = new Park();

  // ---- Creation and sharding ------------------------------------------------------------------

  /**
   * Builds a vCPU whose stores go to {@code stores} as {@link PageFrame.ApplyStores} (normally the
   * same PageFrame as {@code frames}; tests give a separate probe).
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
   * park after {@value VcpuParking#PASSIVATE_AFTER_IDLE_KEY}.
   *
   * @param setupOf the setup of each vCPU
   * @param guestOf the GuestMmu of VM {@code v} (an adapter to its sharded entity)
   * @param hostOf the HostMmu of VM {@code v}
   * @param framesOf the PageFrame of the host running VM {@code v}
   * @param role the cluster role hosting vCPUs, or null for every node
   * @param allocation where shards go (null: Pekko's default, which rebalances and so restarts
   *     vCPUs empty on their new node)
   */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system,
      SetupOf setupOf,
      IntFunction<ActorRef<GuestMmu.Command>> guestOf,
      IntFunction<ActorRef<HostMmu.Command>> hostOf,
      IntFunction<ActorRef<PageFrame.Command>> framesOf,
      String role,
      ShardAllocationStrategy allocation) {
    return VcpuSharding.initSharding(system, setupOf, guestOf, hostOf, framesOf, role, allocation);
  }

  // ---- State ----------------------------------------------------------------------------------

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final VcpuSetup setup;
  private final int vm;
  private final int vcpu;
  private final ActorRef<GuestMmu.Command> guest;
  private final VcpuParts parts;
  private final VcpuCore core;
  private final OutstandingRequest requests;
  private final StoreFlushes flushes;
  private final BatchQueue batches;
  private final StateChanges states;
  private final TracedAccesses traces;
  private final AccessDriver driver;
  private final Halting halting;

  /** Sharded (parks when idle); the parked state this incarnation started from, or null. */
  private final boolean sharded;

  private Parked restored;

  private final Behavior<Command> starting;
  private final Behavior<Command> idle;
  private final Behavior<Command> running;
  private final Behavior<Command> awaitingFault;
  private final Behavior<Command> halted;
  private VcpuState state = VcpuState.STARTING;
  private int mode = -1;

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
    this.guest = guest;
    this.sharded = sharded;
    this.restored =
        sharded
            ? VcpuParking.get(ctx.getSystem())
                .take(entityId(vm, vcpu))
                .map(e -> (Parked) e.state())
                .orElse(null)
            : null;
    this.parts =
        new VcpuParts(
            ctx,
            timers,
            TICK,
            setup,
            guest,
            host,
            frames,
            stores,
            restored,
            this::sendDone,
            this::takeMode);
    this.core = parts.core;
    this.requests = parts.requests;
    this.flushes = parts.flushes;
    this.batches = parts.batches;
    this.states = parts.states;
    this.traces = parts.traces;
    this.driver = parts.driver;
    this.halting = parts.halting;
    if (restored != null) {
      mode = restored.mode();
    }
    this.starting = startingState();
    this.idle = idleState();
    this.running = busyState(); // a distinct instance from awaitingFault's: the state the vCPU
    this.awaitingFault = busyState(); // reports tells the two apart
    this.halted = haltedState();
  }

  /** Checkpoint at a barrier ({@link VcpuEntityCheckpoint}); else Rejected naming why. */
  private Behavior<Command> onCheckpointState(VcpuCheckpointProtocol.CheckpointState m) {
    String busy = VcpuEntityCheckpoint.notAtBarrier(state, parts);
    m.replyTo()
        .tell(
            busy != null
                ? new Rejected(m.requestId(), state, busy)
                : new VcpuCheckpointProtocol.StateCheckpoint(
                    m.requestId(), VcpuEntityCheckpoint.write(setup, state, parts)));
    return Behaviors.same();
  }

  /** Restore at a barrier, all or nothing; the mode and lifecycle state come from the state. */
  private Behavior<Command> onRestoreState(VcpuCheckpointProtocol.RestoreState m) {
    String bad = VcpuEntityCheckpoint.notAtBarrier(state, parts);
    try {
      if (bad == null) {
        VcpuEntityCheckpoint.Restored r =
            VcpuEntityCheckpoint.restore(m.state().bytes(), setup, parts);
        setMode(r.mode());
        m.replyTo().tell(new VcpuCheckpointProtocol.StateRestored(m.requestId(), r.state()));
        return become(r.state());
      }
    } catch (IllegalArgumentException e) {
      bad = e.getMessage();
    }
    m.replyTo().tell(new Rejected(m.requestId(), state, bad));
    return Behaviors.same();
  }

  /** Subscribes to TLB shootdowns and asks for the translation mode. */
  private Behavior<Command> start() {
    parts.link.subscribe(0);
    if (restored != null) {
      // Parked --started again--> the parked state; the mode is known (only SetState changes it)
      setMode(mode);
      VcpuState parked = restored.state();
      restored = null; // the state is taken over: keep no second reference
      return become(parked);
    }
    requests.send(Kind.MODE, guest, id -> new GuestMmu.GetMode(vcpu, parts.replies.mode));
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

  /** The messages every state handles the same way: counters, parking, ticks and peer replies. */
  private Behavior<Command> common(BehaviorBuilder<Command> b) {
    return b.onMessage(GetCounters.class, this::onGetCounters)
        .onMessage(VcpuCheckpointProtocol.CheckpointState.class, this::onCheckpointState)
        .onMessage(VcpuCheckpointProtocol.RestoreState.class, this::onRestoreState)
        .onMessage(Park.class, m -> onPark())
        .onMessage(Tick.class, this::onTick)
        .onMessage(StoresApplied.class, this::onStoresApplied)
        .onMessage(PeerReplies.ModeReplied.class, this::onModeReplied)
        .onMessage(PeerReplies.VsidReplied.class, r -> go(driver.onVsid(r)))
        .onMessage(PeerReplies.LookupReplied.class, r -> go(driver.onLookedUp(r)))
        .onMessage(PeerReplies.FlushReplied.class, this::onFlushReplied)
        .onMessage(PeerReplies.XlateReplied.class, r -> go(driver.onTranslated(r)))
        .onMessage(PeerReplies.PfnReplied.class, r -> go(driver.onPfn(r)))
        .onMessage(PeerReplies.UnmapReplied.class, r -> go(driver.onUnmapped(r)))
        .onMessage(PeerReplies.MapReplied.class, r -> go(driver.onMapped(r)))
        .onMessage(PeerReplies.ExceptionReplied.class, r -> go(driver.onExceptionHandled(r)))
        .onMessage(PeerReplies.RcReplied.class, this::onRcReplied)
        .onMessage(PeerReplies.GuestStateReplied.class, this::onGuestStateReplied)
        .onMessage(PeerReplies.FramesReplied.class, this::onFramesReplied)
        .onMessage(PeerReplies.StoresReplied.class, this::onStoresReplied)
        .onMessage(PeerReplies.ShootdownReceived.class, m -> onShootdown(m.shootdown()))
        .onMessage(PeerReplies.Refused.class, this::onRefused)
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

  /** The state the access driver says to be in. */
  private Behavior<Command> go(Next next) {
    return switch (next) {
      case RUNNING -> become(VcpuState.RUNNING);
      case AWAITING_FAULT -> become(VcpuState.AWAITING_FAULT);
      case IDLE -> become(VcpuState.IDLE);
      case HALT -> haltNow();
      case SAME -> Behaviors.same();
    };
  }

  /** Runs the access loop: the state to be in once it waits or the batches run out. */
  private Behavior<Command> runLoop() {
    return go(driver.runLoop());
  }

  // ---- Lifecycle commands ---------------------------------------------------------------------

  private Behavior<Command> onRunBatch(RunBatch m) {
    String bad = BatchQueue.invalid(m);
    if (bad != null) {
      return reject(m.replyTo(), m.batchId(), bad);
    }
    if (batches.joined(m)) {
      return Behaviors.same();
    }
    String refused = batches.accept(m, setup.maxOutstandingBatches());
    if (refused != null) {
      return reject(m.replyTo(), m.batchId(), refused);
    }
    // Idle --RunBatch--> Running
    return state == VcpuState.IDLE ? runLoop() : Behaviors.same();
  }

  private Behavior<Command> onHaltAtBoundary(Halt m) {
    halting.await(m.replyTo());
    return Behaviors.same();
  }

  private Behavior<Command> onHaltNow(Halt m) {
    halting.await(m.replyTo());
    return haltNow();
  }

  /** Any state --Halt--&gt; Halted (see {@link Halting}). */
  private Behavior<Command> haltNow() {
    halting.halt();
    return become(VcpuState.HALTED);
  }

  private Behavior<Command> notAllowed(ActorRef<ControlReply> replyTo, String cmd, String allowed) {
    return notAllowed(replyTo, -1, cmd, allowed);
  }

  private Behavior<Command> notAllowed(
      ActorRef<? super Rejected> replyTo, long id, String cmd, String allowed) {
    return reject(replyTo, id, cmd + ": not allowed in state " + state + "; allowed in " + allowed);
  }

  private Behavior<Command> reject(ActorRef<? super Rejected> replyTo, long id, String reason) {
    replyTo.tell(new Rejected(id, state, reason));
    return Behaviors.same();
  }

  private Behavior<Command> onGetCounters(GetCounters m) {
    m.replyTo()
        .tell(
            new StatusReport(
                state,
                batches.outstanding(),
                parts.link.knownEpoch(),
                parts.buffer.size(),
                core.counts()));
    return Behaviors.same();
  }

  /** Parks now when nothing is in flight (see {@link VcpuParking}), else checks again later. */
  private Behavior<Command> onPark() {
    if (!sharded) {
      return Behaviors.same();
    }
    boolean quiet =
        (state == VcpuState.IDLE || state == VcpuState.HALTED) && parts.quiet() && !halting.due();
    if (!quiet) {
      timers.startSingleTimer(PARK, PARK, setup.tickInterval());
      return Behaviors.same();
    }
    Parked p = parts.parked(state, mode);
    VcpuParking.get(ctx.getSystem()).park(entityId(vm, vcpu), p.counters(), p);
    return Behaviors.stopped();
  }

  /** BatchDone with the counters as they are now (its store flush counted). */
  private void sendDone(Batch b) {
    if (b.trace) {
      traces.storesApplied();
      return;
    }
    batches.done(b, core.counts());
  }

  // ---- SetState -------------------------------------------------------------------------------

  /** Idle --SetState--&gt; Running: the changes go to the GuestMmu. */
  private Behavior<Command> onSetState(SetState m) {
    if (states.replayed(m)) {
      return Behaviors.same();
    }
    String invalid = StateChanges.invalid(m.changes());
    if (invalid != null) {
      m.replyTo().tell(new Rejected(m.requestId(), state, invalid));
      return Behaviors.same();
    }
    states.start(m);
    return become(VcpuState.RUNNING);
  }

  /** SetState outside Idle: a retry of the one in progress joins it, else rejected. */
  private Behavior<Command> onSetStateNotAllowed(SetState m) {
    if (states.joined(m) || states.replayed(m)) {
      return Behaviors.same();
    }
    return notAllowed(m.replyTo(), m.requestId(), "SetState", "IDLE");
  }

  /** The translation mode (PR 4, IR 2, DR 1): the TLB tags' and the fault handler's MSR bits. */
  private void setMode(int newMode) {
    mode = newMode;
    core.setMode(mode);
    parts.cpu.setMsr((mode & 4) != 0, (mode & 2) != 0, (mode & 1) != 0);
  }

  /** The GuestMmu applied a SetState's changes: its TLB and VSIDs are dropped. */
  private void takeMode(int newMode) {
    setMode(newMode);
    parts.tlb.flush();
    parts.esidToGvsid.clear();
  }

  /**
   * The SetState in progress is answered: Running --StateSet or Rejected--&gt; Idle, or on with the
   * batches or Halt received meanwhile.
   */
  private Behavior<Command> stateDone(HostMmu.Flushed f) {
    states.flushed(f);
    return runLoop();
  }

  private Behavior<Command> stateApplied(GuestMmu.VcpuStateSet s) {
    states.applied(s);
    return Behaviors.same();
  }

  private Behavior<Command> stateFailed(String why) {
    states.failed(why);
    return runLoop();
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
    traces.start(m);
    return become(VcpuState.RUNNING);
  }

  /** TraceAccess outside Idle: a retry of the one in progress joins it, else rejected. */
  private Behavior<Command> onTraceNotAllowed(TraceAccess m) {
    if (traces.joined(m) || traces.replayed(m)) {
      return Behaviors.same();
    }
    return notAllowed(m.replyTo(), m.requestId(), "TraceAccess", "IDLE");
  }

  // ---- Timeouts -------------------------------------------------------------------------------

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
    String why = requests.timeoutReason(setup.requestTimeout());
    requests.clear();
    ctx.getLog().warn("vm {} vcpu {} at ea 0x{}: {}", vm, vcpu, driver.where(), why);
    return requestEnded(kind, why, false, true);
  }

  /**
   * The outstanding request of {@code kind} ended without its reply: refused by the peer ({@code
   * rejected}: bad input or missing state, else it failed) or, {@code timedOut}, given up.
   */
  private Behavior<Command> requestEnded(
      Kind kind, String why, boolean rejected, boolean timedOut) {
    return switch (kind) {
      case MODE -> {
        ctx.getLog().error("vm {} vcpu {}: the guest MMU told no mode, halting: {}", vm, vcpu, why);
        halting.await(ctx.getSystem().ignoreRef());
        yield haltNow();
      }
      case SET_STATE ->
          stateFailed(
              timedOut
                  ? why + " (the changes may or may not be applied; retry the same requestId)"
                  : why);
      case STATE_FLUSH -> stateDone(null); // the host flush happens at the next guest entry
      case TRACE_RC -> go(traces.onRc(null)); // that part of the trace stays unset
      case TRACE_WORD -> go(traces.onWord(null));
      default -> go(timedOut ? driver.timedOut(kind, why) : driver.refused(kind, rejected, why));
    };
  }

  // ---- Peer replies: each handler takes its family's success record ---------------------------

  /** A late or duplicate reply: ignored (a lease it carries is released). */
  private Behavior<Command> stale(Object r) {
    return go(driver.stale(r));
  }

  /**
   * A peer refused a request ({@link PeerReplies.Refused}): a store flush's is a whole batch
   * refused; any other answers the outstanding request of its id, and its meaning depends on the
   * request's kind.
   */
  private Behavior<Command> onRefused(PeerReplies.Refused m) {
    if (m.peer() == PeerReplies.Peer.FRAMES && (m.requestId() & StoreFlushes.FLUSH_IDS) != 0) {
      return onStoresApplied(new StoresApplied(m.requestId(), 0, -1));
    }
    Kind kind = requests.kind();
    boolean matches =
        kind == Kind.MODE
            ? m.peer() == PeerReplies.Peer.GUEST && m.rejected()
            : kind != null && m.requestId() == requests.id();
    if (!matches) {
      return stale(m);
    }
    requests.clear();
    if (kind == Kind.STATE_FLUSH
        || kind == Kind.TRACE_WORD
        || (kind == Kind.TRACE_RC && !m.rejected())) { // rejected R/C: no guest HPTE, left unset
      ctx.getLog().warn("vm {} vcpu {}: {} not done: {}", vm, vcpu, kind, m.reason());
    }
    return requestEnded(kind, m.reason(), m.rejected(), false);
  }

  private Behavior<Command> onModeReplied(PeerReplies.ModeReplied r) {
    if (!(r.reply() instanceof GuestMmu.ModeOf m) || requests.kind() != Kind.MODE) {
      return stale(r.reply());
    }
    requests.clear();
    setMode(m.mode());
    // Starting --ModeOf--> Idle (or Running with queued batches)
    become(VcpuState.IDLE);
    return runLoop();
  }

  /** The guest R/C: of a watched store ({@code RC}) or of a traced access ({@code TRACE_RC}). */
  private Behavior<Command> onRcReplied(PeerReplies.RcReplied r) {
    if (!(r.reply() instanceof GuestMmu.RcOf rc)) {
      return stale(r.reply());
    }
    if (requests.answeredBy(Kind.TRACE_RC, rc.requestId())) {
      return go(traces.onRc(new AccessTrace.Rc(rc.r(), rc.c())));
    }
    return requests.answeredBy(Kind.RC, rc.requestId()) ? go(driver.onRcRead(rc)) : stale(rc);
  }

  /** The host flushed this vCPU: at a guest entry ({@code FLUSH}) or after a SetState. */
  private Behavior<Command> onFlushReplied(PeerReplies.FlushReplied r) {
    if (!(r.reply() instanceof HostMmu.Flushed f)) {
      return stale(r.reply());
    }
    if (requests.answeredBy(Kind.STATE_FLUSH, f.requestId())) {
      return stateDone(f);
    }
    if (!requests.answeredBy(Kind.FLUSH, f.requestId())) {
      return stale(f);
    }
    parts.link.noteEpoch(f.epoch());
    return go(driver.afterFlush());
  }

  private Behavior<Command> onGuestStateReplied(PeerReplies.GuestStateReplied r) {
    return r.reply() instanceof GuestMmu.VcpuStateSet s
            && requests.answeredBy(Kind.SET_STATE, s.requestId())
        ? stateApplied(s)
        : stale(r.reply());
  }

  private Behavior<Command> onFramesReplied(PeerReplies.FramesReplied r) {
    return r.reply() instanceof PageFrame.WordRead w
            && requests.answeredBy(Kind.TRACE_WORD, w.requestId())
        ? go(traces.onWord(w))
        : stale(r.reply());
  }

  // ---- TLB shootdowns and stores --------------------------------------------------------------

  /** {@code tlbie; tlbsync}: empty the TLB now, ack once the earlier stores are applied. */
  private Behavior<Command> onShootdown(HostMmu.TlbShootdown t) {
    switch (parts.link.onShootdown(t)) {
      case COUNTED -> core.count(Counter.SHOOTDOWNS);
      case RESTARTED -> parts.tlb.flush(); // a restored vCPU's entries are of the old HostMmu
      case SUBSCRIBED -> {} // a subscription's answer removes nothing from the TLB: not counted
    }
    flushes.ackAfterStores(t.epoch(), t.ack());
    if (t.flushRequested() && state == VcpuState.HALTED) {
      halting.flushRequested(); // no next guest entry: flush now, after the ack
    }
    return Behaviors.same();
  }

  /** The page frames applied a store flush (a refused one arrives as a Refused). */
  private Behavior<Command> onStoresReplied(PeerReplies.StoresReplied m) {
    if (m.reply() instanceof PageFrame.StoresDone d) {
      return onStoresApplied(new StoresApplied(d.requestId(), d.applied(), d.refused()));
    }
    return stale(m.reply());
  }

  private Behavior<Command> onStoresApplied(StoresApplied m) {
    return flushes.applied(m) ? afterStoreFlush() : Behaviors.same();
  }

  /** A store flush ended: an access loop that waited for room in the buffer runs again. */
  private Behavior<Command> afterStoreFlush() {
    return flushes.roomMade(state == VcpuState.RUNNING) ? runLoop() : Behaviors.same();
  }
}
