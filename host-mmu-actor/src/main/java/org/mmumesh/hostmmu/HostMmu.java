package org.mmumesh.hostmmu;

import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
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
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.mmumesh.common.Checks;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MeshEventBus;

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
 *   <li>the last reply per vCPU per request kind ({@link ReplyMemory}) for idempotent retries.
 * </ul>
 *
 * <h2>TLB shootdown ({@code tlbie; tlbsync})</h2>
 *
 * A command that removed host HPTEs bumps the epoch and sends {@link TlbShootdown} with the new
 * epoch to every subscribed vCPU; its reply ({@link Unmapped}, {@link Flushed}, {@link
 * NotifierAcked}, {@link Mapped} after an eviction, {@link Failed} after a reset) is sent only when
 * every subscriber has answered {@link TlbShootdownAck} with that epoch or newer, so no vCPU TLB
 * entry outlives its host HPTE. A command that removed nothing replies at once (no TLB entry at the
 * current epoch can refer to a removed HPTE, since every earlier removal bumped the epoch). A
 * subscriber that does not answer within {@link Settings#shootdownTimeout()} is logged (warning,
 * naming the vCPUs) and counted ({@code SHOOTDOWN_TIMEOUTS}, {@code SHOOTDOWN_UNANSWERED_VCPUS}),
 * and the reply is sent anyway: a hung vCPU must not stall the VM's memory management, and a vCPU
 * that later runs sees the newer epoch in its next reply. A subscriber whose actor stops is dropped
 * and no longer awaited.
 *
 * <p><b>Q8 notifiers are deferred</b> (spec 5.7: {@code kvm_flush_remote_tlbs} sets
 * KVM_REQ_TLB_FLUSH, each vCPU runs {@code pte_flush(vcpu, 0, 0)} in {@code
 * kvmppc_core_check_requests} before its next guest entry): a {@link NotifierInvalidate} with
 * {@code fullFlush} flushes nothing itself. It marks a flush request for every vCPU, bumps the
 * epoch and sends a shootdown with {@code flushRequested} (the request plus the kick IPI); it is
 * acknowledged when every subscriber acked. Each vCPU then sends {@link FlushVcpu} at its next
 * guest entry, exactly where the sequential engine calls {@code flushAll}; the request flag is
 * cleared when that FlushVcpu is applied and repeated in every shootdown (and subscription) to that
 * vCPU until then.
 *
 * <p><b>Commands during a shootdown</b>: one shootdown is in flight at a time. Commands that may
 * change state ({@link MapPage}, {@link UnmapPage}, {@link GuestTlbie}, {@link FlushVcpu}, {@link
 * NotifierInvalidate}, {@link SubscribeTlb}) are stashed in a bounded {@link StashBuffer} and run,
 * in arrival order, after the shootdown completed; when the stash is full they are answered with
 * {@link Rejected} (the requester retries). Read-only commands ({@link Lookup}, {@link GetStats},
 * {@link CheckInvariants}, {@link DumpShadow}) are answered at once: their answer reflects the
 * state after the removal and carries the new epoch, so a TLB filled from it is valid.
 *
 * <h2>Contract for vCPUs</h2>
 *
 * A vCPU keeps the highest epoch it has seen (from {@link TlbShootdown} or any reply); entries are
 * valid only at that epoch, so a higher epoch empties its TLB. It fills its TLB with the epoch of
 * the {@link LookedUp} it got. It acknowledges each {@link TlbShootdown} after it emptied its TLB.
 * When it (re)subscribes it passes the highest epoch it has seen, and the host MMU moves its epoch
 * above it: epochs never repeat for a vCPU, even across host-MMU incarnations. A reply whose epoch
 * is lower than the vCPU's known epoch means the host MMU restarted: the vCPU empties its TLB and
 * subscribes again.
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
 * <p><b>Event feed.</b> Every installed host HPTE (MAP, {@code "map ro"}/{@code "map rw"} with its
 * pfn) and every invalidation (a guest tlbie's {@code pte_flush}/{@code pte_vflush}, a notifier
 * range flush, a Q8 full-flush request, with the shadow PTEs removed) is published as a {@code
 * MeshEvent} on the node's {@link MeshEventBus}, with this actor's VM (from the entity id) and no
 * host (the bus fills it from the node's directory). Nothing is built while nobody watches.
 */
public final class HostMmu extends AbstractBehavior<HostMmuProtocol.Command>
    implements HostMmuProtocol {

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

  /** The entity id of VM {@code vm}: {@code vm-<v>}. */
  public static String entityId(int vm) {
    Checks.inRange("vm", vm, 0, Integer.MAX_VALUE);
    return "vm-" + vm;
  }

  /** The VM of an entity id {@code vm-<v>}. */
  public static int vmOf(String entityId) {
    if (entityId == null || !entityId.matches("vm-[0-9]{1,10}")) {
      throw new IllegalArgumentException(
          "entityId: " + entityId + " is not allowed; allowed vm-<v> with v 0 to 2147483647");
    }
    long v = Long.parseLong(entityId.substring(3));
    return (int) Checks.inRange("entityId vm", v, 0, Integer.MAX_VALUE);
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
    Objects.requireNonNull(configForVm, "configForVm");
    ClusterShardingSettings shardingSettings =
        ClusterShardingSettings.create(system).withNoPassivationStrategy();
    if (role != null) {
      shardingSettings = shardingSettings.withRole(role);
    }
    Entity<Command, ShardingEnvelope<Command>> entity =
        Entity.of(
                ENTITY_KEY,
                ctx -> {
                  int vm = vmOf(ctx.getEntityId());
                  HostMmuConfig config = configForVm.apply(vm);
                  return create(config, settings, () -> new HostMmuCore(config), vm);
                })
            .withSettings(shardingSettings);
    if (role != null) {
      entity = entity.withRole(role);
    }
    return ClusterSharding.get(system).init(entity);
  }

  /** {@link #initSharding(ActorSystem, IntFunction, Settings, String)} with defaults, any node. */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system, IntFunction<HostMmuConfig> configForVm) {
    return initSharding(system, configForVm, Settings.defaults(), null);
  }

  // ---- state ----------------------------------------------------------------------------------

  private static final ShellCounter[] SHELL_COUNTERS = ShellCounter.values();

  private final ActorContext<Command> ctx;
  private final StashBuffer<Command> stash;
  private final TimerScheduler<Command> timers;
  private final HostMmuConfig config;
  private final Settings settings;
  private final int vcpus;

  private HostMmuCore core;
  private long epoch = FIRST_EPOCH;
  private final MmuNotifierGuard guard = new MmuNotifierGuard();
  private final TlbSubscribers tlbs;
  private final ReplyMemory<MapReply> maps;
  private final ReplyMemory<UnmapReply> unmaps;
  private final ReplyMemory<FlushReply> vcpuFlushes;
  private final ReplyMemory<FlushReply> tlbies = new ReplyMemory<>(1);
  private final long[] shellCounters = new long[SHELL_COUNTERS.length];

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
    this.stash = stash;
    this.timers = timers;
    this.config = config;
    this.settings = settings;
    this.vcpus = config.vcpus();
    this.core = Objects.requireNonNull(firstCore, "firstCore");
    this.tlbs = new TlbSubscribers(ctx, ctx.getSelf().narrow(), vcpus);
    this.maps = new ReplyMemory<>(vcpus);
    this.unmaps = new ReplyMemory<>(vcpus);
    this.vcpuFlushes = new ReplyMemory<>(vcpus);
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
        .onSignal(Terminated.class, this::onTerminated)
        .build();
  }

  // ---- read-only commands (answered even during a shootdown) ----------------------------------

  private Behavior<Command> onLookup(Lookup m) {
    String bad = badVcpu(m.vcpu());
    if (bad != null) {
      return reject(m.replyTo(), m.requestId(), bad);
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
    Map<String, Long> counters = new LinkedHashMap<>(core.stats().toMap());
    for (ShellCounter c : SHELL_COUNTERS) {
      if (shellCounters[c.ordinal()] != 0) {
        counters.put(c.name(), shellCounters[c.ordinal()]);
      }
    }
    m.replyTo().tell(new StatsReply(counters, epoch, guard.latestSeq(), tlbs.count()));
    return this;
  }

  private Behavior<Command> onCheckInvariants(CheckInvariants m) {
    InvariantReport r =
        m.incremental() ? core.checkInvariantsIncremental(null) : core.checkInvariants();
    m.replyTo()
        .tell(
            new InvariantsReply(
                r.violations(),
                r.liveEntries(),
                r.staleEntries(),
                r.unreachableEntries(),
                r.htabValid(),
                epoch));
    return this;
  }

  private Behavior<Command> onDumpShadow(DumpShadow m) {
    m.replyTo().tell(new ShadowDumped(core.shadowDump(), epoch));
    return this;
  }

  // ---- state-changing commands (stashed during a shootdown) -----------------------------------

  private Behavior<Command> onMapPage(MapPage m) {
    if (tlbs.inFlight()) {
      return stashOrReject(m, m.replyTo(), m.requestId());
    }
    String bad = badVcpu(m.vcpu());
    if (bad == null && m.pte() == null) {
      bad = "pte: null; required";
    }
    if (bad != null) {
      return reject(m.replyTo(), m.requestId(), bad);
    }
    MapReply prior = maps.replayed(m.vcpu(), m.requestId());
    if (prior != null) {
      return replay(m.replyTo(), prior);
    }
    if (!guard.mayInstall(m.guardSeq())) {
      count(ShellCounter.MAPS_REFUSED);
      Mapped refused = new Mapped(m.requestId(), false, false, false, epoch);
      maps.remember(m.vcpu(), m.requestId(), refused);
      m.replyTo().tell(refused);
      return this;
    }
    MapResult r;
    try {
      r = core.mapPage(m.vcpu(), m.pte(), m.gvsid(), m.pfn(), m.writable());
    } catch (IllegalArgumentException e) {
      return reject(m.replyTo(), m.requestId(), e.getMessage());
    } catch (RuntimeException e) {
      return coreFailed(e, "MapPage", m.vcpu(), m.pte().eaddr(), m.replyTo(), m.requestId());
    }
    if (r.removedHptes()) {
      epoch++;
    }
    events.mapped(m.vcpu(), m.pte(), m.pfn(), r.readOnly());
    Mapped reply = new Mapped(m.requestId(), true, r.readOnly(), r.markDirty(), epoch);
    maps.remember(m.vcpu(), m.requestId(), reply);
    return acknowledge(r.removedHptes(), () -> m.replyTo().tell(reply));
  }

  private Behavior<Command> onUnmapPage(UnmapPage m) {
    if (tlbs.inFlight()) {
      return stashOrReject(m, m.replyTo(), m.requestId());
    }
    String bad = badVcpu(m.vcpu());
    if (bad == null && m.pte() == null) {
      bad = "pte: null; required";
    }
    if (bad != null) {
      return reject(m.replyTo(), m.requestId(), bad);
    }
    UnmapReply prior = unmaps.replayed(m.vcpu(), m.requestId());
    if (prior != null) {
      return replay(m.replyTo(), prior);
    }
    int removed;
    try {
      removed = core.unmapPage(m.vcpu(), m.pte(), m.vsid64k());
    } catch (IllegalArgumentException e) {
      return reject(m.replyTo(), m.requestId(), e.getMessage());
    } catch (RuntimeException e) {
      return coreFailed(e, "UnmapPage", m.vcpu(), m.pte().eaddr(), m.replyTo(), m.requestId());
    }
    if (removed > 0) {
      epoch++;
      events.unmapped(m.vcpu(), m.pte(), removed);
    }
    Unmapped reply = new Unmapped(m.requestId(), removed, epoch);
    unmaps.remember(m.vcpu(), m.requestId(), reply);
    return acknowledge(removed > 0, () -> m.replyTo().tell(reply));
  }

  private Behavior<Command> onGuestTlbie(GuestTlbie m) {
    if (tlbs.inFlight()) {
      return stashOrReject(m, m.replyTo(), m.requestId());
    }
    if (m.flush() == null) {
      return reject(m.replyTo(), m.requestId(), "flush: null; required (PteFlush or PteVflush)");
    }
    FlushReply prior = tlbies.replayed(0, m.requestId());
    if (prior != null) {
      return replay(m.replyTo(), prior);
    }
    int removed;
    try {
      if (m.flush() instanceof HostFlush.PteFlush f) {
        removed = core.pteFlushAllVcpus(f.ea(), f.mask());
      } else {
        HostFlush.PteVflush f = (HostFlush.PteVflush) m.flush();
        removed = core.pteVflushAllVcpus(f.vpage(), f.mask());
      }
    } catch (IllegalArgumentException e) {
      return reject(m.replyTo(), m.requestId(), e.getMessage());
    } catch (RuntimeException e) {
      return coreFailed(e, "GuestTlbie " + m.flush(), -1, -1, m.replyTo(), m.requestId());
    }
    events.guestTlbie(m.flush(), removed);
    return flushed(removed, m.requestId(), m.replyTo(), 0, tlbies);
  }

  private Behavior<Command> onFlushVcpu(FlushVcpu m) {
    if (tlbs.inFlight()) {
      return stashOrReject(m, m.replyTo(), m.requestId());
    }
    String bad = badVcpu(m.vcpu());
    if (bad != null) {
      return reject(m.replyTo(), m.requestId(), bad);
    }
    FlushReply prior = vcpuFlushes.replayed(m.vcpu(), m.requestId());
    if (prior != null) {
      return replay(m.replyTo(), prior);
    }
    tlbs.flushApplied(m.vcpu());
    int removed;
    try {
      removed = core.flushAll(m.vcpu());
    } catch (IllegalArgumentException e) {
      return reject(m.replyTo(), m.requestId(), e.getMessage());
    } catch (RuntimeException e) {
      return coreFailed(e, "FlushVcpu", m.vcpu(), -1, m.replyTo(), m.requestId());
    }
    events.vcpuFlushed(m.vcpu(), removed);
    return flushed(removed, m.requestId(), m.replyTo(), m.vcpu(), vcpuFlushes);
  }

  private Behavior<Command> flushed(
      int removed,
      long requestId,
      ActorRef<FlushReply> replyTo,
      int memorySlot,
      ReplyMemory<FlushReply> memory) {
    if (removed > 0) {
      epoch++;
    }
    Flushed reply = new Flushed(requestId, removed, epoch);
    memory.remember(memorySlot, requestId, reply);
    return acknowledge(removed > 0, () -> replyTo.tell(reply));
  }

  private Behavior<Command> onNotifierInvalidate(NotifierInvalidate m) {
    if (tlbs.inFlight()) {
      return stashOrReject(m, m.replyTo(), m.notifierSeq());
    }
    String bad = null;
    try {
      Checks.inRange("gfnStart", m.gfnStart(), 0, MAX_GFN);
      Checks.inRange("gfnEnd", m.gfnEnd(), m.gfnStart(), MAX_GFN);
    } catch (IllegalArgumentException e) {
      bad = e.getMessage();
    }
    if (bad != null) {
      return reject(m.replyTo(), m.notifierSeq(), bad);
    }
    guard.noteInvalidation(m.notifierSeq());
    count(ShellCounter.NOTIFIER_EVENTS);
    if (m.fullFlush()) {
      return notifierFlushRequest(m);
    }
    int removed;
    try {
      removed = core.notifierRangeFlush(m.gfnStart() << 12, m.gfnEnd() << 12);
    } catch (RuntimeException e) {
      return coreFailed(
          e, "NotifierInvalidate", -1, m.gfnStart() << 12, m.replyTo(), m.notifierSeq());
    }
    events.notifierRange(m.gfnStart(), m.gfnEnd(), removed);
    if (removed > 0) {
      epoch++;
    }
    NotifierAcked reply = new NotifierAcked(m.notifierSeq(), removed, epoch);
    return acknowledge(removed > 0, () -> m.replyTo().tell(reply));
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
    if (tlbs.inFlight()) {
      if (stash.isFull()) {
        count(ShellCounter.STASH_FULL);
        ctx.getLog()
            .error("SubscribeTlb of vcpu {} dropped: stash full during a shootdown", m.vcpu());
      } else {
        stash.stash(m);
      }
      return this;
    }
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
   * of the current epoch that sends it when every subscriber acknowledged (or at the timeout).
   */
  private Behavior<Command> acknowledge(boolean removed, Runnable reply) {
    if (!removed || !tlbs.start(epoch, reply)) {
      reply.run();
      return this;
    }
    count(ShellCounter.SHOOTDOWNS);
    timers.startSingleTimer(
        ShootdownTimedOut.class, new ShootdownTimedOut(epoch), settings.shootdownTimeout());
    return this;
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

  private Behavior<Command> finishRound() {
    timers.cancel(ShootdownTimedOut.class);
    tlbs.finish();
    return stash.unstashAll(this);
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

  private Behavior<Command> stashOrReject(
      Command m, ActorRef<? super Rejected> replyTo, long requestId) {
    if (stash.isFull()) {
      count(ShellCounter.STASH_FULL);
      replyTo.tell(
          new Rejected(
              requestId,
              "stash: full ("
                  + settings.stashCapacity()
                  + " commands) while a TLB shootdown is in flight; retry later"));
    } else {
      stash.stash(m);
    }
    return this;
  }

  private Behavior<Command> reject(
      ActorRef<? super Rejected> replyTo, long requestId, String reason) {
    count(ShellCounter.REJECTED);
    replyTo.tell(new Rejected(requestId, reason));
    return this;
  }

  private <R extends Reply> Behavior<Command> replay(ActorRef<R> replyTo, R prior) {
    count(ShellCounter.RETRIES_ANSWERED);
    replyTo.tell(prior);
    return this;
  }

  /**
   * The core threw unexpectedly: log with the vCPU and address, reset the shadow state to empty (a
   * consistent state), and reply {@link Failed} after every TLB was shot down.
   */
  private Behavior<Command> coreFailed(
      RuntimeException e,
      String what,
      int vcpu,
      long ea,
      ActorRef<? super Failed> replyTo,
      long requestId) {
    count(ShellCounter.CORE_FAILURES);
    ctx.getLog()
        .error(
            "host MMU core failed in {} (vcpu {}, ea 0x{}); resetting the shadow state",
            what,
            vcpu,
            Long.toHexString(ea),
            e);
    core = new HostMmuCore(config);
    epoch++;
    Failed reply =
        new Failed(
            requestId, what + " (vcpu " + vcpu + ", ea 0x" + Long.toHexString(ea) + "): " + e);
    return acknowledge(true, () -> replyTo.tell(reply));
  }
}
