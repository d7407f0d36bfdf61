package org.mmumesh.hostmmu.actor;

import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.mmumesh.common.Checks;
import org.mmumesh.common.GuestPte;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MeshEventBus;
import org.mmumesh.hostmmu.HostMmuConfig;
import org.mmumesh.hostmmu.HostMmuCore;
import org.mmumesh.hostmmu.HostMmuEvents;
import org.mmumesh.hostmmu.Lookup;
import org.mmumesh.hostmmu.MmuNotifierGuard;
import org.mmumesh.hostmmu.ShellCounter;
import org.mmumesh.shell.Attempt;
import org.mmumesh.shell.EntityIds;
import org.mmumesh.shell.HeldReplies;
import org.mmumesh.shell.LastReplies;
import org.mmumesh.shell.ShardedEntities;

/**
 * The host MMU of one VM as an actor (architecture sections 2 and 4; spec 5.2-5.7): a thin shell
 * around {@link HostMmuCore}, which owns the host HTAB, the per-vCPU shadow-PTE caches and SID
 * maps. Every decision about HPTEs (rflags, eviction, flush masks, notifier modes) is the core's;
 * this class routes messages, runs the TLB shootdown, the retry guard and the idempotency memory.
 *
 * <h2>State</h2>
 *
 * <ul>
 *   <li>the {@link HostMmuCore} (a cache of translations: losing it is safe, vCPUs re-fault);
 *   <li>{@code epoch}: bumped whenever a command may have removed a valid host HPTE (unmap, flush,
 *       guest tlbie, notifier, eviction or cache-full/VSID-exhausted flush by a map, reset). vCPU
 *       TLB entries are stamped with it; every reply carries the epoch current when it was sent;
 *   <li>the TLB subscribers, one {@code ActorRef<TlbShootdown>} per vCPU index (watched);
 *   <li>the {@link MmuNotifierGuard} (latest MMU-notifier sequence applied);
 *   <li>the last reply per vCPU per request kind (the shell kit's {@link LastReplies}) for
 *       idempotent retries.
 * </ul>
 *
 * <p>At a barrier (no shootdown in flight) {@link CheckpointState} / {@link RestoreState} write and
 * replace all of it but the subscribers and the retry memory ({@link HostMmuEntityCheckpoint}).
 *
 * <h2>TLB shootdown ({@code tlbie; tlbsync})</h2>
 *
 * A command that removed host HPTEs bumps the epoch, and its reply is held until every subscribed
 * vCPU acknowledged a {@link TlbShootdown} of that epoch (or the {@link
 * Settings#shootdownTimeout()} passed); Q8 notifiers are deferred to each vCPU's next guest entry.
 * The rules, and the contract vCPUs keep, are {@link TlbSubscribers}'s.
 *
 * <p><b>Commands during a shootdown</b>: one shootdown is in flight at a time. Commands that may
 * change state ({@link MapPage}, {@link UnmapPage}, {@link GuestTlbie}, {@link FlushVcpu}, {@link
 * NotifierInvalidate}, {@link SubscribeTlb}) are stashed in a bounded {@link StashBuffer} ({@link
 * HeldReplies}) and run, in arrival order, after the shootdown completed; when the stash is full
 * they are answered with {@link Rejected} (the requester retries). Read-only commands ({@link
 * Lookup}, {@link GetStats}, {@link CheckInvariants}, {@link DumpShadow}) are answered at once:
 * their answer reflects the state after the removal and carries the new epoch, so a TLB filled from
 * it is valid.
 *
 * <h2>Idempotency</h2>
 *
 * {@link MapPage}, {@link UnmapPage} and {@link FlushVcpu} remember the last reply per vCPU, {@link
 * GuestTlbie} the last reply per VM: a repeated requestId is answered with the remembered reply and
 * not applied again. {@link Lookup} is read-only and answered fresh. {@link NotifierInvalidate}
 * carries no request id: applying it twice only flushes again, which is harmless. Rejections and
 * failures are not remembered (nothing was applied).
 *
 * <h2>Bad input and failures</h2>
 *
 * Replies implement a small sealed {@link Reply} hierarchy: each command's {@code replyTo} accepts
 * its success reply, {@link Rejected} (bad input: the reason names the field and the allowed range;
 * nothing changed) and {@link Failed}. If the core throws anything but {@link
 * IllegalArgumentException}, the actor logs it with the vCPU and address, replaces the core by an
 * empty one (a consistent state: shadow PTEs are a cache), bumps the epoch, shoots down every TLB
 * and replies {@link Failed}; subscribers, the notifier guard and the remembered replies are kept.
 * A {@link SubscribeTlb} with a bad vCPU index has no reply channel: it is logged and counted
 * ({@code REJECTED}).
 *
 * <h2>Sharding, passivation and rebalance</h2>
 *
 * Entity {@link #ENTITY_KEY}, id {@code vm-<v>} ({@link #entityId}). {@link #initSharding} turns
 * passivation off. When the entity stops anyway (rebalance, node loss), its whole state is lost:
 * the new incarnation starts with empty shadow tables, epoch {@link #FIRST_EPOCH}, no subscribers
 * and a fresh notifier guard. Empty shadow tables are safe (vCPUs re-fault, NOHPTE). vCPUs learn of
 * the restart by a reply whose epoch is below theirs and re-subscribe with their known epoch, which
 * moves the new incarnation's epoch above every epoch of the old one. Two windows remain open until
 * then, which is why passivation is off: a vCPU may still hit TLB entries of the old incarnation (a
 * notifier acknowledged by the new incarnation shoots down nobody), and a fresh guard cannot refuse
 * a map whose gfn-to-pfn preceded an invalidation the old incarnation applied. Closing them needs
 * the vCPUs to re-subscribe (and the page-frame side to re-send its notifier sequence) when the
 * entity restarts.
 *
 * <p><b>Event feed</b> ({@link HostMmuEvents}): every installed host HPTE and every invalidation is
 * published on the node's {@link MeshEventBus}, built only while someone watches.
 */
public final class HostMmu extends AbstractBehavior<HostMmuProtocol.Command>
    implements HostMmuProtocol, HostMmuCheckpointProtocol {

  /** The sharding entity type. */
  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "HostMmu");

  /** The epoch of a new incarnation (0 is never used, so a vCPU starting at 0 always moves). */
  public static final long FIRST_EPOCH = 1;

  /** The largest guest frame number a notifier may name: {@code gfn << 12} fits 64 bits. */
  public static final long MAX_GFN = 1L << 52;

  /** A shootdown of {@code epoch} waited long enough (a timer message, local only). */
  record ShootdownTimedOut(long epoch) implements Command, NoSerializationVerificationNeeded {}

  // ---- settings and factories -----------------------------------------------------------------

  /**
   * @param shootdownTimeout how long a TLB shootdown waits for acks before replying anyway
   * @param stashCapacity commands held while a shootdown is in flight
   */
  public record Settings(Duration shootdownTimeout, int stashCapacity) {
    /** Validates both fields. */
    public Settings {
      Objects.requireNonNull(shootdownTimeout, "shootdownTimeout");
      if (shootdownTimeout.isNegative() || shootdownTimeout.isZero()) {
        throw new IllegalArgumentException(
            "shootdownTimeout: " + shootdownTimeout + " is out of range; allowed > 0");
      }
      Checks.inRange("stashCapacity", stashCapacity, 1, 1 << 20);
    }

    /** 2 s and 4096 stashed commands. */
    public static Settings defaults() {
      return new Settings(Duration.ofSeconds(2), 4096);
    }
  }

  /** A HostMmu with {@link Settings#defaults()}. */
  public static Behavior<Command> create(HostMmuConfig config) {
    return create(config, Settings.defaults());
  }

  /** A HostMmu for one VM of shape {@code config}. */
  public static Behavior<Command> create(HostMmuConfig config, Settings settings) {
    Objects.requireNonNull(config, "config");
    return create(config, settings, () -> new HostMmuCore(config));
  }

  /**
   * A HostMmu whose first core comes from {@code firstCore} (tests: a core with an injected
   * failure); a reset after a core failure builds a fresh {@code new HostMmuCore(config)}.
   */
  static Behavior<Command> create(
      HostMmuConfig config, Settings settings, Supplier<HostMmuCore> firstCore) {
    return create(config, settings, firstCore, MeshEvent.NONE);
  }

  /**
   * A HostMmu of VM {@code vm}, the VM its map and invalidation events name ({@link
   * MeshEvent#NONE}: unknown); sharded entities get it from their entity id.
   */
  static Behavior<Command> create(
      HostMmuConfig config, Settings settings, Supplier<HostMmuCore> firstCore, int vm) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(settings, "settings");
    return Behaviors.withStash(
        settings.stashCapacity(),
        stash ->
            Behaviors.setup(
                ctx ->
                    Behaviors.withTimers(
                        timers ->
                            new HostMmu(
                                ctx, stash, timers, config, settings, firstCore.get(), vm))));
  }

  /** The entity id of VM {@code vm}: {@code vm-<v>} ({@link EntityIds#vm}). */
  public static String entityId(int vm) {
    return EntityIds.vm(vm);
  }

  /** The VM of an entity id {@code vm-<v>} ({@link EntityIds#vmOf}). */
  public static int vmOf(String entityId) {
    return EntityIds.vmOf(entityId);
  }

  /**
   * Registers the HostMmu entity type with Cluster Sharding, passivation off (its state is a cache,
   * but losing it forces every vCPU to re-fault and re-subscribe).
   *
   * @param configForVm the host MMU shape of each VM (distinct {@code firstContextId}s per host)
   * @param settings shootdown timeout and stash capacity
   * @param role the cluster role that hosts HostMmu entities, or null for every node
   * @return the shard region, addressed with {@code ShardingEnvelope(entityId(v), command)}
   */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system,
      IntFunction<HostMmuConfig> configForVm,
      Settings settings,
      String role) {
    return initSharding(system, configForVm, settings, role, null);
  }

  /**
   * As {@link #initSharding(ActorSystem, IntFunction, Settings, String)}, shards placed by {@code
   * allocation} (null: Pekko's default, which rebalances and so restarts entities empty).
   */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system,
      IntFunction<HostMmuConfig> configForVm,
      Settings settings,
      String role,
      org.apache.pekko.cluster.sharding.ShardCoordinator.ShardAllocationStrategy allocation) {
    Objects.requireNonNull(configForVm, "configForVm");
    return ShardedEntities.initWithoutPassivation(
        system,
        ENTITY_KEY,
        id -> {
          try {
            int vm = vmOf(id);
            HostMmuConfig config = configForVm.apply(vm);
            return create(config, settings, () -> new HostMmuCore(config), vm);
          } catch (IllegalArgumentException e) {
            // no VM, or its state lived on another node: refuse rather than serve empty state
            return RefusingHostMmu.create(id + ": " + e.getMessage());
          }
        },
        role,
        allocation);
  }

  /** {@link #initSharding(ActorSystem, IntFunction, Settings, String)} with defaults, any node. */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system, IntFunction<HostMmuConfig> configForVm) {
    return initSharding(system, configForVm, Settings.defaults(), null);
  }

  // ---- state ----------------------------------------------------------------------------------

  private final ActorContext<Command> ctx;

  /** The reply a shootdown holds back, and the stash of commands that wait for it. */
  private final HeldReplies<Command> held;

  private final TimerScheduler<Command> timers;
  private final HostMmuConfig config;
  private final Settings settings;
  private final int vcpus;

  private HostMmuCore core;
  private long epoch = FIRST_EPOCH;
  private MmuNotifierGuard guard = new MmuNotifierGuard();
  private final TlbSubscribers tlbs;
  private LastReplies<MapReply> maps = new LastReplies<>();
  private LastReplies<UnmapReply> unmaps = new LastReplies<>();
  private LastReplies<FlushReply> vcpuFlushes = new LastReplies<>();
  private LastReplies<FlushReply> tlbies = new LastReplies<>();
  private final long[] shellCounters = new long[ShellCounter.values().length];

  /** The event feed: this node's bus and this actor's VM ({@link MeshEvent#NONE}: unknown). */
  private final HostMmuEvents events;

  private HostMmu(
      ActorContext<Command> ctx,
      StashBuffer<Command> stash,
      TimerScheduler<Command> timers,
      HostMmuConfig config,
      Settings settings,
      HostMmuCore firstCore,
      int vm) {
    super(ctx);
    this.ctx = ctx;
    ctx.setLoggerName(HostMmu.class);
    this.held = new HeldReplies<>(stash, HostMmu::atOnce, this::stashFull);
    this.timers = timers;
    this.config = config;
    this.settings = settings;
    this.vcpus = config.vcpus();
    this.core = Objects.requireNonNull(firstCore, "firstCore");
    this.tlbs = new TlbSubscribers(ctx, ctx.getSelf().narrow(), vcpus);
    this.events = new HostMmuEvents(MeshEventBus.of(ctx.getSystem()), vm);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Lookup.class, this::onLookup)
        .onMessage(MapPage.class, this::onMapPage)
        .onMessage(UnmapPage.class, this::onUnmapPage)
        .onMessage(GuestTlbie.class, this::onGuestTlbie)
        .onMessage(FlushVcpu.class, this::onFlushVcpu)
        .onMessage(NotifierInvalidate.class, this::onNotifierInvalidate)
        .onMessage(SubscribeTlb.class, this::onSubscribeTlb)
        .onMessage(TlbShootdownAck.class, this::onTlbShootdownAck)
        .onMessage(ShootdownTimedOut.class, this::onShootdownTimedOut)
        .onMessage(GetStats.class, this::onGetStats)
        .onMessage(CheckInvariants.class, this::onCheckInvariants)
        .onMessage(DumpShadow.class, this::onDumpShadow)
        .onMessage(CheckpointState.class, this::onCheckpointState)
        .onMessage(RestoreState.class, this::onRestoreState)
        .onSignal(Terminated.class, this::onTerminated)
        .build();
  }

  // ---- read-only commands (answered even during a shootdown) ----------------------------------

  private Behavior<Command> onLookup(Lookup m) {
    String bad = badVcpu(m.vcpu());
    if (bad != null) {
      return reject(new Op<>("Lookup", m.vcpu(), m.ea(), m.requestId(), m.replyTo()), bad);
    }
    int slot = core.lookupSlot(m.vcpu(), m.gvsid(), m.ea());
    if (slot < 0) {
      m.replyTo().tell(new LookedUp(m.requestId(), -1, org.mmumesh.hostmmu.Lookup.MISS, -1, epoch));
    } else {
      m.replyTo()
          .tell(
              new LookedUp(
                  m.requestId(), slot, core.protectionOf(slot), (int) core.pfnOf(slot), epoch));
    }
    return this;
  }

  private Behavior<Command> onGetStats(GetStats m) {
    m.replyTo()
        .tell(HostMmuReports.stats(core, shellCounters, epoch, guard.latestSeq(), tlbs.count()));
    return this;
  }

  private Behavior<Command> onCheckInvariants(CheckInvariants m) {
    m.replyTo().tell(HostMmuReports.invariants(core, m.incremental(), epoch));
    return this;
  }

  private Behavior<Command> onDumpShadow(DumpShadow m) {
    m.replyTo().tell(new ShadowDumped(core.shadowDump(), epoch));
    return this;
  }

  // ---- checkpoint and restore at a barrier (HostMmuEntityCheckpoint) -------------------------

  private String notAtBarrier() {
    return held.isWaiting() || tlbs.inRound() || held.stashed() > 0
        ? "not at a barrier: a TLB shootdown is in flight"
        : null;
  }

  private Behavior<Command> onCheckpointState(CheckpointState m) {
    String busy = notAtBarrier();
    m.replyTo()
        .tell(
            busy != null
                ? new Rejected(m.requestId(), busy)
                : new StateCheckpoint(
                    m.requestId(),
                    HostMmuEntityCheckpoint.write(
                        core, epoch, guard, shellCounters, tlbs.flushRequested())));
    return this;
  }

  private Behavior<Command> onRestoreState(RestoreState m) {
    String bad = notAtBarrier();
    HostMmuEntityCheckpoint.Restored r = null;
    try {
      r = bad == null ? HostMmuEntityCheckpoint.read(m.state().bytes(), config, FIRST_EPOCH) : null;
    } catch (IllegalArgumentException e) {
      bad = e.getMessage();
    }
    if (r == null) {
      m.replyTo().tell(new Rejected(m.requestId(), bad));
      return this;
    }
    core = r.core();
    epoch = r.epoch();
    guard = r.guard();
    System.arraycopy(r.shellCounters(), 0, shellCounters, 0, shellCounters.length);
    tlbs.restoreFlushRequested(r.flushRequested());
    maps = new LastReplies<>();
    unmaps = new LastReplies<>();
    vcpuFlushes = new LastReplies<>();
    tlbies = new LastReplies<>();
    m.replyTo().tell(new StateRestored(m.requestId()));
    return this;
  }

  // ---- state-changing commands (stashed by `held` while a shootdown is in flight) ------------

  private Behavior<Command> onMapPage(MapPage m) {
    Op<MapReply> op = new Op<>("MapPage", m.vcpu(), ea(m.pte()), m.requestId(), m.replyTo());
    Behavior<Command> done = opening(op, badVcpuPte(m.vcpu(), m.pte()), maps, m.vcpu());
    if (done != null) {
      return done;
    }
    if (!guard.mayInstall(m.guardSeq())) {
      count(ShellCounter.MAPS_REFUSED);
      Mapped refused = new Mapped(m.requestId(), false, false, false, epoch);
      maps.remember(m.vcpu(), m.requestId(), refused);
      m.replyTo().tell(refused);
      return this;
    }
    return tryCore(
        op,
        () -> core.mapPage(m.vcpu(), m.pte(), m.gvsid(), m.pfn(), m.writable()),
        r -> {
          if (r.removedHptes()) {
            epoch++;
          }
          events.mapped(m.vcpu(), m.pte(), m.pfn(), r.readOnly());
          Mapped reply = new Mapped(m.requestId(), true, r.readOnly(), r.markDirty(), epoch);
          maps.remember(m.vcpu(), m.requestId(), reply);
          return acknowledge(r.removedHptes(), () -> m.replyTo().tell(reply));
        });
  }

  private Behavior<Command> onUnmapPage(UnmapPage m) {
    Op<UnmapReply> op = new Op<>("UnmapPage", m.vcpu(), ea(m.pte()), m.requestId(), m.replyTo());
    Behavior<Command> done = opening(op, badVcpuPte(m.vcpu(), m.pte()), unmaps, m.vcpu());
    if (done != null) {
      return done;
    }
    return tryCore(
        op,
        () -> core.unmapPage(m.vcpu(), m.pte(), m.vsid64k()),
        removed -> {
          if (removed > 0) {
            epoch++;
            events.unmapped(m.vcpu(), m.pte(), removed);
          }
          Unmapped reply = new Unmapped(m.requestId(), removed, epoch);
          unmaps.remember(m.vcpu(), m.requestId(), reply);
          return acknowledge(removed > 0, () -> m.replyTo().tell(reply));
        });
  }

  private Behavior<Command> onGuestTlbie(GuestTlbie m) {
    Op<FlushReply> op = new Op<>("GuestTlbie " + m.flush(), -1, -1, m.requestId(), m.replyTo());
    String bad = m.flush() == null ? "flush: null; required (PteFlush or PteVflush)" : null;
    Behavior<Command> done = opening(op, bad, tlbies, 0);
    if (done != null) {
      return done;
    }
    return tryCore(
        op,
        () ->
            m.flush() instanceof HostFlush.PteFlush f
                ? core.pteFlushAllVcpus(f.ea(), f.mask())
                : core.pteVflushAllVcpus(
                    ((HostFlush.PteVflush) m.flush()).vpage(),
                    ((HostFlush.PteVflush) m.flush()).mask()),
        removed -> {
          events.guestTlbie(m.flush(), removed);
          return flushed(removed, op, 0, tlbies);
        });
  }

  private Behavior<Command> onFlushVcpu(FlushVcpu m) {
    Op<FlushReply> op = new Op<>("FlushVcpu", m.vcpu(), -1, m.requestId(), m.replyTo());
    Behavior<Command> done = opening(op, badVcpu(m.vcpu()), vcpuFlushes, m.vcpu());
    if (done != null) {
      return done;
    }
    tlbs.flushApplied(m.vcpu());
    return tryCore(
        op,
        () -> core.flushAll(m.vcpu()),
        removed -> {
          events.vcpuFlushed(m.vcpu(), removed);
          return flushed(removed, op, m.vcpu(), vcpuFlushes);
        });
  }

  private Behavior<Command> flushed(
      int removed, Op<FlushReply> op, long requester, LastReplies<FlushReply> memory) {
    if (removed > 0) {
      epoch++;
    }
    Flushed reply = new Flushed(op.requestId(), removed, epoch);
    memory.remember(requester, op.requestId(), reply);
    return acknowledge(removed > 0, () -> op.replyTo().tell(reply));
  }

  private Behavior<Command> onNotifierInvalidate(NotifierInvalidate m) {
    Op<NotifierReply> op =
        new Op<>("NotifierInvalidate", -1, m.gfnStart() << 12, m.notifierSeq(), m.replyTo());
    String bad =
        Attempt.run(
                () -> {
                  Checks.inRange("gfnStart", m.gfnStart(), 0, MAX_GFN);
                  Checks.inRange("gfnEnd", m.gfnEnd(), m.gfnStart(), MAX_GFN);
                })
            .rejected();
    if (bad != null) {
      return reject(op, bad);
    }
    guard.noteInvalidation(m.notifierSeq());
    count(ShellCounter.NOTIFIER_EVENTS);
    if (m.fullFlush()) {
      return notifierFlushRequest(m);
    }
    // The range was checked: anything the core throws now is a failure, not bad input.
    return Attempt.of(() -> core.notifierRangeFlush(m.gfnStart() << 12, m.gfnEnd() << 12))
        .fold(
            removed -> {
              events.notifierRange(m.gfnStart(), m.gfnEnd(), removed);
              if (removed > 0) {
                epoch++;
              }
              NotifierAcked reply = new NotifierAcked(m.notifierSeq(), removed, epoch);
              return acknowledge(removed > 0, () -> m.replyTo().tell(reply));
            },
            reason -> coreFailed(new IllegalArgumentException(reason), op),
            e -> coreFailed(e, op));
  }

  /**
   * Q8 (spec 5.7): {@code kvm_flush_remote_tlbs} sets KVM_REQ_TLB_FLUSH on every vCPU and kicks
   * them (the IPI, waited for): a shootdown with {@code flushRequested} to every subscriber; each
   * vCPU empties its TLB, applies its buffered stores and acks, and flushes its shadow PTEs ({@link
   * FlushVcpu}) at its next guest entry. The notifier is acknowledged when every vCPU acked.
   */
  private Behavior<Command> notifierFlushRequest(NotifierInvalidate m) {
    core.notifierFullFlushRequested();
    tlbs.requestFlushAll();
    events.notifierFullFlushRequested(m.gfnStart(), m.gfnEnd());
    epoch++;
    NotifierAcked reply = new NotifierAcked(m.notifierSeq(), 0, epoch);
    return acknowledge(true, () -> m.replyTo().tell(reply));
  }

  private Behavior<Command> onSubscribeTlb(SubscribeTlb m) {
    String bad = badVcpu(m.vcpu());
    if (bad == null && m.vcpuRef() == null) {
      bad = "vcpuRef: null; required";
    }
    if (bad != null) {
      count(ShellCounter.REJECTED);
      ctx.getLog().warn("SubscribeTlb rejected: {}", bad);
      return this;
    }
    if (m.knownEpoch() >= epoch) {
      // A vCPU has seen epochs of an earlier incarnation: move above them so none repeats.
      epoch = m.knownEpoch() + 1;
    }
    tlbs.subscribe(m.vcpu(), m.vcpuRef(), epoch);
    return this;
  }

  // ---- the shootdown --------------------------------------------------------------------------

  /**
   * Sends {@code reply} now, or, when {@code removed} and someone is subscribed, starts a shootdown
   * of the current epoch and holds {@code reply} (the waiting behaviour of {@link #held}) until
   * every subscriber acknowledged or the timeout.
   */
  private Behavior<Command> acknowledge(boolean removed, Runnable reply) {
    if (!removed || !tlbs.start(epoch)) {
      reply.run();
      return this;
    }
    count(ShellCounter.SHOOTDOWNS);
    timers.startSingleTimer(
        ShootdownTimedOut.class, new ShootdownTimedOut(epoch), settings.shootdownTimeout());
    return held.hold(this, reply);
  }

  private Behavior<Command> onTlbShootdownAck(TlbShootdownAck m) {
    if (tlbs.ack(m.vcpu(), m.epoch())) {
      return finishRound();
    }
    return this;
  }

  private Behavior<Command> onShootdownTimedOut(ShootdownTimedOut m) {
    int[] late = tlbs.outstanding(m.epoch());
    if (late == null) {
      return this;
    }
    count(ShellCounter.SHOOTDOWN_TIMEOUTS);
    shellCounters[ShellCounter.SHOOTDOWN_UNANSWERED_VCPUS.ordinal()] += late.length;
    ctx.getLog()
        .warn(
            "TLB shootdown of epoch {} timed out after {}: vcpus {} did not acknowledge; replying"
                + " anyway",
            m.epoch(),
            settings.shootdownTimeout(),
            Arrays.toString(late));
    return finishRound();
  }

  private Behavior<Command> onTerminated(Terminated t) {
    return tlbs.stopped(t.getRef()) ? finishRound() : this;
  }

  /** Sends the held reply and replays the commands stashed meanwhile. */
  private Behavior<Command> finishRound() {
    timers.cancel(ShootdownTimedOut.class);
    tlbs.endRound();
    return held.release();
  }

  /** Handled at once even while a shootdown is in flight: read-only queries and the round's own. */
  private static boolean atOnce(Command c) {
    return c instanceof Lookup
        || c instanceof GetStats
        || c instanceof CheckInvariants
        || c instanceof DumpShadow
        || c instanceof CheckpointState
        || c instanceof RestoreState
        || c instanceof TlbShootdownAck
        || c instanceof ShootdownTimedOut;
  }

  /** A command that found the stash full during a shootdown: rejected, nothing applied. */
  private void stashFull(Command c) {
    count(ShellCounter.STASH_FULL);
    String reason =
        "stash: full ("
            + settings.stashCapacity()
            + " commands) while a TLB shootdown is in flight; retry later";
    if (c instanceof MapPage m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (c instanceof UnmapPage m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (c instanceof GuestTlbie m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (c instanceof FlushVcpu m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (c instanceof NotifierInvalidate m) {
      m.replyTo().tell(new Rejected(m.notifierSeq(), reason));
    } else if (c instanceof SubscribeTlb m) {
      ctx.getLog()
          .error("SubscribeTlb of vcpu {} dropped: stash full during a shootdown", m.vcpu());
    }
  }

  // ---- the opening every state-changing command shares ----------------------------------------

  /**
   * One state-changing request as its handler sees it: what it is (for logs and {@link Failed}),
   * its vCPU and address, its request id and where its replies go. {@link Rejected} and {@link
   * Failed} belong to every reply family, so both can be sent to any {@code replyTo}.
   */
  private record Op<R extends Reply>(
      String what, int vcpu, long ea, long requestId, ActorRef<R> replyTo) {
    @SuppressWarnings("unchecked")
    void tell(Reply r) {
      ((ActorRef<Reply>) replyTo).tell(r);
    }
  }

  /**
   * Bad input ({@code bad} non-null) is rejected and a retried request answered from {@code memory}
   * (the reply to {@code requester}'s same request id, not applied again); null: go on.
   */
  private <R extends Reply> Behavior<Command> opening(
      Op<R> op, String bad, LastReplies<R> memory, long requester) {
    if (bad != null) {
      return reject(op, bad);
    }
    R prior = memory.replayed(requester, op.requestId());
    if (prior == null) {
      return null;
    }
    count(ShellCounter.RETRIES_ANSWERED);
    op.replyTo().tell(prior);
    return this;
  }

  /**
   * Runs a core step under the kit's rule ({@link Attempt}): its result goes to {@code then}, bad
   * input the core found is {@link Rejected}, anything else resets the core ({@link #coreFailed}).
   */
  private <T> Behavior<Command> tryCore(
      Op<?> op, Supplier<T> step, Function<T, Behavior<Command>> then) {
    return Attempt.of(step).fold(then, reason -> reject(op, reason), e -> coreFailed(e, op));
  }

  // ---- helpers --------------------------------------------------------------------------------

  private String badVcpu(int vcpu) {
    if (vcpu < 0 || vcpu >= vcpus) {
      return "vcpu: " + vcpu + " is out of range; allowed 0 to " + (vcpus - 1);
    }
    return null;
  }

  private void count(ShellCounter c) {
    shellCounters[c.ordinal()]++;
  }

  private static long ea(GuestPte pte) {
    return pte == null ? -1 : pte.eaddr();
  }

  private String badVcpuPte(int vcpu, GuestPte pte) {
    String bad = badVcpu(vcpu);
    return bad == null && pte == null ? "pte: null; required" : bad;
  }

  private Behavior<Command> reject(Op<?> op, String reason) {
    count(ShellCounter.REJECTED);
    op.tell(new Rejected(op.requestId(), reason));
    return this;
  }

  /**
   * The core threw unexpectedly: log with the vCPU and address, reset the shadow state to empty (a
   * consistent state), and reply {@link Failed} after every TLB was shot down.
   */
  private Behavior<Command> coreFailed(RuntimeException e, Op<?> op) {
    count(ShellCounter.CORE_FAILURES);
    ctx.getLog()
        .error(
            "host MMU core failed in {} (vcpu {}, ea 0x{}); resetting the shadow state",
            op.what(),
            op.vcpu(),
            Long.toHexString(op.ea()),
            e);
    core = new HostMmuCore(config);
    epoch++;
    Failed reply =
        new Failed(
            op.requestId(),
            op.what() + " (vcpu " + op.vcpu() + ", ea 0x" + Long.toHexString(op.ea()) + "): " + e);
    return acknowledge(true, () -> op.tell(reply));
  }
}
