package org.mmumesh.pageframe.actor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MeshEventBus;
import org.mmumesh.pageframe.FrameEventFeed;
import org.mmumesh.pageframe.FrameScanner;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.pageframe.PfnResult;
import org.mmumesh.pageframe.ShellCounter;
import org.mmumesh.shell.Attempt;
import org.mmumesh.shell.DeadlineTicks;
import org.mmumesh.shell.EntityIds;
import org.mmumesh.shell.HeldReplies;
import org.mmumesh.shell.LastReplies;
import org.mmumesh.shell.RecentReplies;

/**
 * The page frames of one simulated host as an actor (architecture sections 2 and 4; spec 5.1, 5.7,
 * 7.4, 8.8 TV61): a thin shell around {@link PageFrames}, which owns the frames, every VM's host
 * address space and memslots, {@code gfn_to_pfn_prot}, copy-on-write and the KSM page operations.
 * Every decision about frames is the core's; this class routes messages, hands out memslot read
 * leases ({@link Leases}), forwards MMU-notifier invalidations and holds replies until they are
 * acknowledged ({@link FaultProtocol}), holds memslot replies back until their update completed
 * ({@link MemslotProtocol}, {@link MemslotShell}), runs the host's KSM scanner ({@link
 * KsmProtocol}) and remembers replies for retries.
 *
 * <p>The protocol is split by area, one screen each: {@link MemslotProtocol}, {@link
 * FaultProtocol}, {@link FrameContentsProtocol}, {@link KsmProtocol}; this class implements them so
 * that every message keeps its name {@code PageFrame.Xxx}. The roots ({@link Command}, {@link
 * Reply}) and the one {@link Rejected} and {@link Failed} of every reply family are here.
 *
 * <h2>State</h2>
 *
 * <ul>
 *   <li>the {@link PageFrames} core: guest memory itself (frames and their contents);
 *   <li>the leases handed out ({@link Leases});
 *   <li>the notifier subscribers per VM (watched), and the notifier round in flight (while one is,
 *       the actor is in {@link HeldReplies}' waiting behaviour, stashing what may change state);
 *   <li>memslot updates whose reply waits for their ticket;
 *   <li>the last {@link GfnToPfnProt} reply per (vm, vCPU) (the same requestId again is answered
 *       with the same pfn and lease, without a second lease or COW break) and the last {@link
 *       Settings#rememberedRequests()} replies to other requests, by (kind, vm, requestId).
 * </ul>
 *
 * <h2>Bad input and failures</h2>
 *
 * The core throws {@link IllegalArgumentException} before changing anything; its message (naming
 * the field, e.g. {@code "vm: 7 does not exist"}, or the overlapped memslot and its range) becomes
 * a {@link Rejected} (not remembered: nothing changed). Any other exception is logged with the vm,
 * vCPU and gfn, answered with {@link Failed}, and the actor keeps its state (supervised with
 * <em>resume</em>: a restart would wipe guest memory); notifier events the core had emitted are
 * still delivered ({@link Attempt}).
 *
 * <h2>Sharding, passivation, rebalance</h2>
 *
 * Entity {@link #ENTITY_KEY}, id {@code host-<h>} ({@link #entityId}). The frames are guest memory:
 * losing this actor's state loses every VM's memory contents on that host. {@link #initSharding}
 * therefore turns passivation off; a rebalance or node loss still loses the state (the new
 * incarnation starts with no VMs, and its requests are rejected until VMs are re-created), so
 * deployments must not rebalance this entity type. Persistence (event sourcing or snapshots of the
 * frames) is future work.
 *
 * <h2>Event feed</h2>
 *
 * COW breaks and KSM merges are published on the node's {@link MeshEventBus} ({@link
 * FrameEventFeed}).
 */
public final class PageFrame extends AbstractBehavior<PageFrame.Command>
    implements MemslotProtocol, FaultProtocol, FrameContentsProtocol, KsmProtocol, PageFrameConfig {

  /** The sharding entity type; entity ids are {@code host-<h>}. */
  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "PageFrame");

  /** Largest vCPU index a {@link GfnToPfnProt} may name. */
  public static final int MAX_VCPU = 4095;

  /** The most stores one {@link ApplyStores} may carry. */
  public static final int MAX_STORES = 1 << 20;

  /**
   * The most gfns one {@link ReadFrames} may ask for (a bound on one reply: 8 MiB of fingerprints).
   * A larger range is read in chunks: {@code ReadFrames(gfnStart, c)}, {@code ReadFrames(gfnStart +
   * c, c)}, ..., each chunk {@code c} at most this; any VM size can be read that way.
   */
  public static final int MAX_READ_FRAMES = 1 << 20;

  /**
   * A {@link ReadFrames} chunk whose {@link FramesRead} reply fits Artery's default maximum frame
   * size (256 KiB: at most 9 CBOR bytes per fingerprint): the chunk to use when the reply may cross
   * nodes. A larger reply to a remote requester is dropped by the transport.
   */
  public static final int READ_FRAMES_CHUNK = 1 << 14;

  /** The largest {@link KsmScan} budget: the kernel's {@code pages_to_scan} limit. */
  public static final long UINT_MAX = 0xFFFF_FFFFL;

  /** The reason KSM scanner commands are rejected by a PageFrame created without a scanner. */
  public static final String NO_SCANNER =
      "ksm: no FrameScanner on this PageFrame; create it with a scanner factory";

  /** The configuration section read by {@link Settings#fromConfig}. */
  public static final String CONFIG_PATH = "mmumesh.page-frame";

  // ---- protocol: the roots (the commands and replies: the *Protocol interfaces) ---------------

  /** Every message the PageFrame accepts. */
  public sealed interface Command extends CborSerializable
      permits CreateVm,
          AddSlot,
          RemoveSlot,
          Populate,
          GfnToPfnProt,
          ReleaseLease,
          SubscribeNotifier,
          NotifierAck,
          ApplyStores,
          ReadFrames,
          ReadWord,
          GetStats,
          CheckInvariants,
          KsmScan,
          KsmSetRun,
          KsmSetPagesToScan,
          KsmSetSleepMillisecs,
          KsmMadvise,
          KsmFullScans,
          GetKsmCounters,
          KsmShell.Tick,
          AckTimedOut,
          LeaseTick {}

  /** A command answered by a reply family that includes {@link Rejected}. */
  interface Request {
    long requestId();

    ActorRef<? super Rejected> replyTo();
  }

  /** Every reply. */
  public sealed interface Reply extends CborSerializable
      permits VmReply, SlotReply, PopulateReply, PfnReply, StoresReply, FramesReply, KsmReply {}

  /**
   * Bad input; nothing changed, no lease held. {@code reason} names the field and the allowed range
   * (the core's message).
   */
  public record Rejected(long requestId, String reason)
      implements VmReply, SlotReply, PopulateReply, PfnReply, StoresReply, FramesReply, KsmReply {}

  /** The core failed unexpectedly (logged); no lease held; the state is kept. */
  public record Failed(long requestId, String cause)
      implements VmReply, SlotReply, PopulateReply, PfnReply, KsmReply {}

  // ---- internal messages (local only) ---------------------------------------------------------

  private record AckTimedOut(long roundId) implements Command, NoSerializationVerificationNeeded {}

  /** The lease tick (one periodic timer while leases are held). */
  private record LeaseTick() implements Command, NoSerializationVerificationNeeded {}

  private static final LeaseTick LEASE_TICK = new LeaseTick();

  // ---- settings and factories -----------------------------------------------------------------

  /** A PageFrame with the settings of the actor system's configuration. */
  public static Behavior<Command> create() {
    return Behaviors.setup(ctx -> create(Settings.fromConfig(ctx.getSystem().settings().config())));
  }

  /** A PageFrame (one simulated host) with {@code settings}, without a KSM scanner. */
  public static Behavior<Command> create(Settings settings) {
    return create(settings, null);
  }

  /**
   * A PageFrame (one simulated host) with {@code settings} and a KSM scanner made by {@code
   * scannerFactory} on the actor's own core (see {@link FrameScanner}); {@code null}: no scanner,
   * the KSM scanner commands are answered {@link Rejected} with {@link #NO_SCANNER}.
   */
  public static Behavior<Command> create(
      Settings settings, Function<PageFrames, FrameScanner> scannerFactory) {
    return create(settings, scannerFactory, MeshEvent.NONE);
  }

  /**
   * {@link #create(Settings, Function)} for host {@code hostId}, the host its COW-break and merge
   * events name ({@link MeshEvent#NONE}: unknown); sharded entities get it from their entity id.
   */
  public static Behavior<Command> create(
      Settings settings, Function<PageFrames, FrameScanner> scannerFactory, int hostId) {
    Objects.requireNonNull(settings, "settings");
    Behavior<Command> b =
        Behaviors.withStash(
            settings.stashCapacity(),
            stash ->
                Behaviors.setup(
                    ctx ->
                        Behaviors.withTimers(
                            timers ->
                                new PageFrame(
                                    ctx, stash, timers, settings, scannerFactory, hostId))));
    return Behaviors.supervise(b).onFailure(SupervisorStrategy.resume());
  }

  /** The entity id of host {@code host}: {@code host-<h>} ({@link EntityIds#host}). */
  public static String entityId(int host) {
    return EntityIds.host(host);
  }

  /** The host of an entity id {@code host-<h>} ({@link EntityIds#hostOf}). */
  public static int hostOf(String entityId) {
    return EntityIds.hostOf(entityId);
  }

  private static int hostOrNone(String entityId) {
    try {
      return hostOf(entityId);
    } catch (IllegalArgumentException e) {
      return MeshEvent.NONE;
    }
  }

  /**
   * Registers the PageFrame entity type with Cluster Sharding, passivation off (its state is guest
   * memory; see the class comment about rebalancing).
   *
   * @param role the cluster role hosting PageFrame entities, or null for every node
   * @return the shard region, addressed with {@code ShardingEnvelope(entityId(h), command)}
   */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system, Settings settings, String role) {
    return initSharding(system, settings, role, null);
  }

  /**
   * {@link #initSharding(ActorSystem, Settings, String)} whose entities get a KSM scanner made by
   * {@code scannerFactory} (null: none).
   */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system,
      Settings settings,
      String role,
      Function<PageFrames, FrameScanner> scannerFactory) {
    return initSharding(system, settings, role, scannerFactory, null);
  }

  /**
   * As {@link #initSharding(ActorSystem, Settings, String, Function)}, shards placed by {@code
   * allocation} (null: Pekko's default, which rebalances and so restarts entities empty).
   */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system,
      Settings settings,
      String role,
      Function<PageFrames, FrameScanner> scannerFactory,
      org.apache.pekko.cluster.sharding.ShardCoordinator.ShardAllocationStrategy allocation) {
    Objects.requireNonNull(settings, "settings");
    ClusterShardingSettings shardingSettings =
        ClusterShardingSettings.create(system).withNoPassivationStrategy();
    if (role != null) {
      shardingSettings = shardingSettings.withRole(role);
    }
    Entity<Command, ShardingEnvelope<Command>> entity =
        Entity.of(
                ENTITY_KEY, ctx -> create(settings, scannerFactory, hostOrNone(ctx.getEntityId())))
            .withSettings(shardingSettings);
    if (role != null) {
      entity = entity.withRole(role);
    }
    if (allocation != null) {
      entity = entity.withAllocationStrategy(allocation);
    }
    return ClusterSharding.get(system).init(entity);
  }

  /** {@link #initSharding(ActorSystem, Settings, String)} with the configured settings. */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(ActorSystem<?> system) {
    return initSharding(system, Settings.fromConfig(system.settings().config()), null);
  }

  // ---- state ----------------------------------------------------------------------------------

  /** The key a management or KSM reply is remembered by. */
  record RequestKey(String kind, int vm, long requestId) {}

  private final ActorContext<Command> ctx;
  private final Settings settings;
  private final PageFrames core;
  private final Leases leases;
  private final FrameContents contents;
  private final KsmShell ksm;
  private final FrameEventFeed feed;
  private final NotifierRounds notifier;
  private final MemslotShell memslots;

  private final TreeSet<Integer> vms = new TreeSet<>();
  private final LastReplies<PfnAnswered> lastPfn = new LastReplies<>();
  private final RecentReplies<RequestKey, Object> remembered;
  private final long[] shellCounters = new long[ShellCounter.values().length];

  private PageFrame(
      ActorContext<Command> ctx,
      StashBuffer<Command> stash,
      TimerScheduler<Command> timers,
      Settings settings,
      Function<PageFrames, FrameScanner> scannerFactory,
      int hostId) {
    super(ctx);
    this.ctx = ctx;
    ctx.setLoggerName(PageFrame.class);
    this.settings = settings;
    this.core = new PageFrames(settings.initialFrames());
    this.leases =
        new Leases(
            core,
            new DeadlineTicks<>(
                timers, LEASE_TICK, LEASE_TICK, settings.leaseTick(), settings.leaseTimeout()),
            settings.leaseTimeout(),
            this::count,
            ctx.getLog());
    this.contents = new FrameContents(this, core, ctx.getLog());
    this.remembered = new RecentReplies<>(settings.rememberedRequests());
    this.notifier =
        new NotifierRounds(
            this,
            core,
            ctx,
            timers,
            new HeldReplies<>(stash, PageFrame::atOnce, this::stashFull),
            settings.notifierAckTimeout(),
            AckTimedOut::new);
    this.memslots = new MemslotShell(this, core);
    this.feed = new FrameEventFeed(MeshEventBus.of(ctx.getSystem()), hostId);
    core.setFrameEventListener(feed);
    FrameScanner scanner = null;
    if (scannerFactory != null) {
      // The merge handshake: invalidations of VMs with subscribers stay pending until acked.
      core.trackInvalidations(notifier::hasSubscribers);
      scanner = Objects.requireNonNull(scannerFactory.apply(core), "scannerFactory result");
    }
    this.ksm = new KsmShell(this, scanner, timers, ctx.getSelf(), ctx.getLog());
  }

  /**
   * What is handled at once while a notifier round is in flight: acks, ticks, lease releases, the
   * stores and the read-only commands. Everything else may change state or take a lease: stashed.
   */
  private static boolean atOnce(Command m) {
    return m instanceof NotifierAck
        || m instanceof AckTimedOut
        || m instanceof LeaseTick
        || m instanceof ReleaseLease
        || m instanceof ApplyStores
        || m instanceof ReadFrames
        || m instanceof ReadWord
        || m instanceof GetStats
        || m instanceof CheckInvariants
        || m instanceof KsmShell.Tick;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(CreateVm.class, this::onCreateVm)
        .onMessage(AddSlot.class, memslots::onAddSlot)
        .onMessage(RemoveSlot.class, memslots::onRemoveSlot)
        .onMessage(Populate.class, this::onPopulate)
        .onMessage(GfnToPfnProt.class, this::onGfnToPfnProt)
        .onMessage(ReleaseLease.class, this::onReleaseLease)
        .onMessage(SubscribeNotifier.class, notifier::onSubscribe)
        .onMessage(NotifierAck.class, notifier::onAck)
        .onMessage(ApplyStores.class, this::onApplyStores)
        .onMessage(ReadFrames.class, this::onReadFrames)
        .onMessage(ReadWord.class, this::onReadWord)
        .onMessage(KsmScan.class, ksm::onScan)
        .onMessage(KsmSetRun.class, ksm::onSetRun)
        .onMessage(KsmSetPagesToScan.class, ksm::onSetPagesToScan)
        .onMessage(KsmSetSleepMillisecs.class, ksm::onSetSleepMillisecs)
        .onMessage(KsmMadvise.class, ksm::onMadvise)
        .onMessage(KsmFullScans.class, ksm::onFullScans)
        .onMessage(GetKsmCounters.class, ksm::onGetCounters)
        .onMessage(KsmShell.Tick.class, ksm::onTick)
        .onMessage(GetStats.class, this::onGetStats)
        .onMessage(CheckInvariants.class, this::onCheckInvariants)
        .onMessage(AckTimedOut.class, this::onAckTimedOut)
        .onMessage(LeaseTick.class, this::onLeaseTick)
        .onSignal(Terminated.class, this::onTerminated)
        .build();
  }

  // ---- management -----------------------------------------------------------------------------

  private Behavior<Command> onCreateVm(CreateVm m) {
    RequestKey key = new RequestKey("CreateVm", m.vm(), m.requestId());
    if (replayed(key, m.replyTo())) {
      return this;
    }
    return Attempt.run(() -> core.createVm(m.vm()))
        .fold(
            ok -> {
              vms.add(m.vm());
              VmCreated reply = new VmCreated(m.requestId(), m.vm());
              remembered.remember(key, reply);
              m.replyTo().tell(reply);
              return this;
            },
            why -> reject(m, why),
            e -> failed(e, "CreateVm", m.vm(), -1, -1, m.requestId(), m.replyTo()));
  }

  private Behavior<Command> onPopulate(Populate m) {
    RequestKey key = new RequestKey("Populate", m.vm(), m.requestId());
    if (replayed(key, m.replyTo())) {
      return this;
    }
    return Attempt.run(() -> core.populate(m.vm(), m.gfn(), m.fingerprint()))
        .fold(
            ok -> {
              Populated reply = new Populated(m.requestId());
              remembered.remember(key, reply);
              return answer(() -> m.replyTo().tell(reply));
            },
            why -> reject(m, why),
            e -> failed(e, "Populate", m.vm(), -1, m.gfn(), m.requestId(), m.replyTo()));
  }

  // ---- gfn to pfn and leases ------------------------------------------------------------------

  private Behavior<Command> onGfnToPfnProt(GfnToPfnProt m) {
    if (m.vcpu() < 0 || m.vcpu() > MAX_VCPU) {
      return reject(m, "vcpu: " + m.vcpu() + " is out of range; allowed 0 to " + MAX_VCPU);
    }
    long who = LastReplies.requester(m.vm(), m.vcpu());
    PfnAnswered last = lastPfn.replayed(who, m.requestId());
    if (last != null) {
      count(ShellCounter.RETRIES_ANSWERED);
      m.replyTo().tell(last);
      return this;
    }
    if (!core.hasVm(m.vm())) {
      return reject(m, badVm(m.vm()));
    }
    long token = core.leaseAcquire(m.vm());
    feed.vcpu(m.vcpu());
    Attempt<PfnResult> a = Attempt.of(() -> core.gfnToPfnProt(m.vm(), m.gfn(), m.writeFault()));
    feed.vcpu(MeshEvent.NONE);
    if (!a.ok()) {
      core.leaseRelease(m.vm(), token);
    }
    return a.fold(
        result -> {
          long lease = leases.grant(m.vm(), m.vcpu(), token, result);
          PfnAnswered reply = new PfnAnswered(m.requestId(), result, lease);
          lastPfn.remember(who, m.requestId(), reply);
          return answer(() -> m.replyTo().tell(reply));
        },
        why -> reject(m, why),
        e -> failed(e, "GfnToPfnProt", m.vm(), m.vcpu(), m.gfn(), m.requestId(), m.replyTo()));
  }

  private Behavior<Command> onReleaseLease(ReleaseLease m) {
    leases.release(m.vm(), m.lease());
    return this;
  }

  private Behavior<Command> onLeaseTick(LeaseTick m) {
    leases.tick();
    return this;
  }

  // ---- stores and frame contents (handled at once) --------------------------------------------

  private Behavior<Command> onApplyStores(ApplyStores m) {
    contents.applyStores(m);
    return this;
  }

  private Behavior<Command> onReadFrames(ReadFrames m) {
    contents.readFrames(m);
    return this;
  }

  private Behavior<Command> onReadWord(ReadWord m) {
    contents.readWord(m);
    return this;
  }

  // ---- notifier -------------------------------------------------------------------------------

  private Behavior<Command> onAckTimedOut(AckTimedOut m) {
    return notifier.onTimeout(m.roundId());
  }

  private Behavior<Command> onTerminated(Terminated t) {
    notifier.onTerminated(t.getRef());
    return this;
  }

  /**
   * Sends {@code reply} once the notifier events the core emitted meanwhile were acknowledged
   * ({@link NotifierRounds#answer}).
   */
  Behavior<Command> answer(Runnable reply) {
    return notifier.answer(reply);
  }

  /** Answers a command that found the stash full (nothing applied). */
  private void stashFull(Command m) {
    count(ShellCounter.STASH_FULL);
    if (m instanceof Request r) {
      r.replyTo()
          .tell(
              new Rejected(
                  r.requestId(),
                  "stash: full ("
                      + settings.stashCapacity()
                      + " commands) while an MMU-notifier round is in flight; retry later"));
    } else {
      ctx.getLog().error("{} dropped: stash full", m);
    }
  }

  // ---- read-only ------------------------------------------------------------------------------

  private Behavior<Command> onGetStats(GetStats m) {
    Map<String, Long> c = new LinkedHashMap<>();
    c.put("COW_BREAKS", core.cowBreaks());
    c.put("COW_KSM", core.cowKsm());
    c.put("ZERO_PAGE_COW", core.zeroPageCow());
    c.put("ZERO_PAGE_MAPS", core.zeroPageMaps());
    c.put("FRESH_ALLOCATIONS", core.freshAllocations());
    c.put("NOTIFIER_EVENTS", core.notifierEvents());
    c.put("MAPPED_PAGES", core.mappedPages());
    c.put("FRAMES_IN_USE", core.framesInUse());
    c.put("FRAMES_ALLOCATED", (long) core.framesAllocated());
    c.put("ZERO_PAGE_MAPPINGS", core.zeroPageMappings());
    c.put("FRAMES_SAVED", core.framesSaved());
    c.put("FRAMES_SAVED_EXCLUDING_ZERO_PAGE", core.framesSavedExcludingZeroPage());
    c.put("FRAMES_SAVED_BY_KSM", core.framesSavedByKsm());
    for (ShellCounter s : ShellCounter.values()) {
      if (shellCounters[s.ordinal()] != 0) {
        c.put(s.name(), shellCounters[s.ordinal()]);
      }
    }
    Map<Integer, Integer> held = new TreeMap<>();
    for (int vm : vms) {
      held.put(vm, core.leasesHeld(vm));
    }
    m.replyTo().tell(new StatsReply(c, held));
    return this;
  }

  private Behavior<Command> onCheckInvariants(CheckInvariants m) {
    if (!m.incremental()) {
      m.replyTo().tell(new InvariantsReply(core.invariantViolations()));
      return this;
    }
    List<String> v = new ArrayList<>(core.invariantViolationsIncremental());
    ksm.counterViolationsIncremental().forEach(x -> v.add("ksm: " + x));
    m.replyTo().tell(new InvariantsReply(v));
    return this;
  }

  // ---- helpers (also for the sub-shells) ------------------------------------------------------

  static String badVm(int vm) {
    if (vm < 0 || vm > PageFrames.MAX_VM) {
      return "vm: " + vm + " is out of range; allowed 0 to " + PageFrames.MAX_VM;
    }
    return "vm: " + vm + " does not exist; create it first";
  }

  void count(ShellCounter c) {
    shellCounters[c.ordinal()]++;
  }

  long counter(ShellCounter c) {
    return shellCounters[c.ordinal()];
  }

  /** Whether a notifier round is in flight (the shell is waiting for its acks). */
  boolean roundInFlight() {
    return notifier.inFlight();
  }

  void add(ShellCounter c, long n) {
    shellCounters[c.ordinal()] += n;
  }

  void remember(RequestKey key, Object reply) {
    remembered.remember(key, reply);
  }

  void replaceRemembered(RequestKey key, Object reply) {
    remembered.replace(key, reply);
  }

  /** Answers a retry from memory: a remembered reply, or joins a slot update still waiting. */
  @SuppressWarnings("unchecked")
  boolean replayed(RequestKey key, ActorRef<? extends Reply> replyTo) {
    Object prior = remembered.replayed(key);
    if (prior == null) {
      return false;
    }
    count(ShellCounter.RETRIES_ANSWERED);
    if (prior instanceof MemslotShell.SlotWaiter w) {
      w.join((ActorRef<SlotReply>) (ActorRef<?>) replyTo);
    } else {
      ((ActorRef<Object>) (ActorRef<?>) replyTo).tell(prior);
    }
    return true;
  }

  Behavior<Command> reject(Request m, String reason) {
    count(ShellCounter.REJECTED);
    Rejected r = new Rejected(m.requestId(), reason);
    return answer(() -> m.replyTo().tell(r));
  }

  /** The core threw unexpectedly: log with the vm, vCPU and gfn, answer Failed, keep the state. */
  Behavior<Command> failed(
      RuntimeException e,
      String what,
      int vm,
      int vcpu,
      long gfn,
      long requestId,
      ActorRef<? super Failed> replyTo) {
    count(ShellCounter.CORE_FAILURES);
    ctx.getLog()
        .error(
            "page-frame core failed in {} (vm {}, vcpu {}, gfn 0x{})",
            what,
            vm,
            vcpu,
            Long.toHexString(gfn),
            e);
    Failed f = new Failed(requestId, what + ": " + e);
    return answer(() -> replyTo.tell(f));
  }
}
