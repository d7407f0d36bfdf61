package org.mmumesh.ksm.actor;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.common.Checks;
import org.mmumesh.ksm.KsmScanner;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.pageframe.actor.PageFrame;

/**
 * ksmd of one simulated host as an actor (spec section 7; architecture section 4, "KSM merge"): its
 * schedule, its controls and the merge handshake's continuation. The scan work itself runs inside
 * the host's {@link PageFrame} actor, on its frames, through the {@link
 * org.mmumesh.pageframe.FrameScanner} plug-in {@link KsmFrameScanner}.
 *
 * <h2>Deliberate deviation from architecture.md's ownership table</h2>
 *
 * The table gives the scan cursor, the trees and the counters to this actor. ksmd however reads
 * page tables and frame contents synchronously at every step, and those are the PageFrame actor's
 * state; copying them here, or sharing the object between two actors, is not acceptable. So the
 * trees and rmap items live beside the frames in the PageFrame entity of the host ({@link
 * KsmFrameScanner} wrapping {@link KsmScanner}), and this entity owns ksmd's schedule ({@code
 * sleep_millisecs}, {@code pages_to_scan}), the {@code run} control, madvise requests, lockstep
 * stepping and the handshake: a batch that stopped because a merge waits for the host MMUs'
 * acknowledgements is continued at once with the remaining budget.
 *
 * <h2>State</h2>
 *
 * <ul>
 *   <li>the controls: {@code run} (as confirmed by the PageFrame), {@code pages_to_scan} (0 to
 *       UINT_MAX, default from {@link Settings}), {@code sleep_millisecs} (1 to UINT_MAX);
 *   <li>the one request outstanding at the PageFrame (a scan batch or a client operation) with its
 *       requestId, attempts and timeout timer, and a bounded queue of client operations behind it;
 *   <li>the last {@link Settings#rememberedRequests()} client replies, for idempotent retries;
 *   <li>this actor's counters: batches, coalesced ticks, handshakes waited, retries, failures.
 * </ul>
 *
 * <h2>Schedule (spec 7.1, 7.3)</h2>
 *
 * While {@code run} is 1 a timer ticks every {@code sleep_millisecs}; each tick sends {@link
 * PageFrame.KsmScan} of {@code pages_to_scan} pages. Setting {@code run} to 1 also runs a batch at
 * once once the PageFrame confirmed it (ksmd wakes at once, as the sequential {@link KsmScanner}
 * does). A reply with {@code handshakePending} means the batch stopped early for a merge handshake,
 * which is complete when the reply arrives: the next {@code KsmScan} for the remaining budget goes
 * out at once, not at the next tick. At most one request is outstanding at the PageFrame: a tick
 * arriving while one is outstanding or queued is dropped and counted ({@code coalesced_ticks}), so
 * the work in flight is bounded whatever the timer does. {@code run} 2 unmerges every KSM page
 * (through the PageFrame's notifier rounds) and stops the timer, as {@link KsmScanner#setRun} does.
 *
 * <h2>Delivery</h2>
 *
 * Requests to the PageFrame carry requestIds of this incarnation ({@code uid << 32 | n}, the
 * actor's uid, so a restarted Ksm never reuses one) and are retried with the same requestId after
 * {@link Settings#requestTimeout()} ({@link Settings#fullScansTimeout()} for {@link FullScans}), up
 * to {@link Settings#maxAttempts()} attempts; the PageFrame answers retries from memory. A reply
 * that matches no outstanding request (late duplicate) is ignored. A client command with the
 * requestId of one in progress joins it; one already answered is answered from memory.
 *
 * <h2>Bad input and failures</h2>
 *
 * Bad values are answered {@link Rejected} naming the field and the allowed range, before anything
 * changes; the PageFrame's rejections (a VM that does not exist, no scanner) are passed on. A
 * request the PageFrame never answers is answered {@link Failed} after the last attempt; a failed
 * scan batch is logged and counted.
 *
 * <h2>Sharding</h2>
 *
 * Entity {@link #ENTITY_KEY}, id {@code host-<h>} like the host's PageFrame. {@link #initSharding}
 * turns passivation off (a passivated ksmd would stop scanning). A new incarnation starts with
 * {@code run} 0 and the settings' defaults; the PageFrame keeps the scanner's trees and its {@code
 * run}, so a client re-sends {@link SetRun} after a rebalance.
 */
public final class Ksm extends AbstractBehavior<Ksm.Command> {

  /** The sharding entity type; entity ids are {@code host-<h>}. */
  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "Ksm");

  /** The configuration section read by {@link Settings#fromConfig}. */
  public static final String CONFIG_PATH = "mmumesh.ksm";

  // ---- protocol: commands ---------------------------------------------------------------------

  /** Every message the Ksm actor accepts. */
  public sealed interface Command extends CborSerializable {}

  /**
   * Writes {@code /sys/kernel/mm/ksm/run}: 0 stop (merges stay), 1 merge, 2 stop and unmerge every
   * KSM page. Answered {@link ControlDone} once the PageFrame applied it (after the notifier rounds
   * of the unmerge).
   */
  public record SetRun(long requestId, int run, ActorRef<ControlReply> replyTo)
      implements Command {}

  /** Writes {@code pages_to_scan}: 0 to UINT_MAX. Answered {@link ControlDone} at once. */
  public record SetPagesToScan(long requestId, long pages, ActorRef<ControlReply> replyTo)
      implements Command {}

  /**
   * Writes {@code sleep_millisecs}: 1 to UINT_MAX (simulated time, see {@link
   * KsmScanner#setSleepMillisecs}). Restarts the timer with the new period. Answered at once.
   */
  public record SetSleepMillisecs(long requestId, long millis, ActorRef<ControlReply> replyTo)
      implements Command {}

  /**
   * {@code madvise(MADV_MERGEABLE)} ({@code mergeable}) or {@code MADV_UNMERGEABLE} of host pages
   * {@code [startPage, startPage + pages)} of VM {@code vm} on this host. Answered {@link
   * ControlDone} once applied.
   */
  public record Madvise(
      long requestId,
      int vm,
      long startPage,
      long pages,
      boolean mergeable,
      ActorRef<ControlReply> replyTo)
      implements Command {}

  /**
   * Lockstep stepping: runs {@code passes} (0 to {@link Integer#MAX_VALUE}) whole passes now,
   * handshakes included, then answers {@link FullScansDone}. Needs {@code run} 1.
   */
  public record FullScans(long requestId, int passes, ActorRef<FullScansReply> replyTo)
      implements Command {}

  /**
   * Lockstep stepping by simulated time: one ksmd wake-up now ({@code ksm_do_scan} of {@code pages}
   * pages, 1 to UINT_MAX), continued past merge handshakes until the budget is spent or the pass
   * ends its batch, exactly as a timer tick's batch; answered {@link ScanBatchDone}. Needs {@code
   * run} 1. A client that paces ksmd this way sets {@code pages_to_scan} 0 so the timer scans
   * nothing in between.
   */
  public record ScanBatch(long requestId, long pages, ActorRef<ScanBatchReply> replyTo)
      implements Command {}

  /** The kernel's counters (from the PageFrame's scanner) and this actor's own. */
  public record GetCounters(long requestId, ActorRef<CountersReply> replyTo) implements Command {}

  // ---- protocol: replies ----------------------------------------------------------------------

  /** Every reply. */
  public sealed interface Reply extends CborSerializable {}

  /** What a control command's requester receives. */
  public sealed interface ControlReply extends Reply {}

  /** What a {@link FullScans} requester receives. */
  public sealed interface FullScansReply extends Reply {}

  /** What a {@link ScanBatch} requester receives. */
  public sealed interface ScanBatchReply extends Reply {}

  /** What a {@link GetCounters} requester receives. */
  public sealed interface CountersReply extends Reply {}

  /** The control took effect. */
  public record ControlDone(long requestId) implements ControlReply {}

  /** The batch ran: {@code visited} pages (fewer than asked when the scan stopped early). */
  public record ScanBatchDone(long requestId, long visited) implements ScanBatchReply {}

  /** {@code passes} full passes completed. */
  public record FullScansDone(long requestId, int passes) implements FullScansReply {}

  /**
   * @param counters the scanner's counters ({@code pages_shared}, {@code pages_sharing}, {@code
   *     pages_unshared}, {@code pages_volatile}, {@code full_scans}, {@code pages_visited}, {@code
   *     rmap_items}, {@code stable_nodes}, {@code handshake_rewinds}, {@code
   *     handshakes_abandoned}), then the controls ({@code run}, {@code pages_to_scan}, {@code
   *     sleep_millisecs}) and this actor's ({@code batches}, {@code coalesced_ticks}, {@code
   *     handshakes_waited}, {@code retries}, {@code request_failures}, {@code scan_failures})
   * @param violations the scanner's counter violations (empty when consistent)
   */
  public record Counters(long requestId, Map<String, Long> counters, List<String> violations)
      implements CountersReply {}

  /** Bad input (naming the field and the allowed range) or refused by the PageFrame. */
  public record Rejected(long requestId, String reason)
      implements ControlReply, FullScansReply, ScanBatchReply, CountersReply {}

  /** The PageFrame failed or never answered. */
  public record Failed(long requestId, String cause)
      implements ControlReply, FullScansReply, ScanBatchReply, CountersReply {}

  // ---- internal messages (local only) ---------------------------------------------------------

  private record Tick() implements Command, NoSerializationVerificationNeeded {}

  private record FromPageFrame(PageFrame.KsmScannerReply reply)
      implements Command, NoSerializationVerificationNeeded {}

  private record RequestTimedOut(long pfRequestId)
      implements Command, NoSerializationVerificationNeeded {}

  // ---- settings and factories -----------------------------------------------------------------

  /**
   * @param pagesToScan initial {@code pages_to_scan} (default 100)
   * @param sleepMillisecs initial {@code sleep_millisecs} (default 20)
   * @param requestTimeout a PageFrame request unanswered by then is retried (default 5 s; above the
   *     PageFrame's notifier-ack timeout, since a reply may wait for acks)
   * @param fullScansTimeout the same for {@link FullScans} (default 60 s)
   * @param maxAttempts attempts per request before it fails (default 5)
   * @param queueCapacity client operations waiting behind the outstanding one (default 256)
   * @param rememberedRequests client replies remembered for retries (default 256)
   */
  public record Settings(
      long pagesToScan,
      long sleepMillisecs,
      Duration requestTimeout,
      Duration fullScansTimeout,
      int maxAttempts,
      int queueCapacity,
      int rememberedRequests) {
    /** Validates every field; messages name the field and the allowed range. */
    public Settings {
      Checks.inRange("pagesToScan", pagesToScan, 0, KsmScanner.UINT_MAX);
      Checks.inRange("sleepMillisecs", sleepMillisecs, 1, KsmScanner.UINT_MAX);
      positive("requestTimeout", requestTimeout);
      positive("fullScansTimeout", fullScansTimeout);
      Checks.inRange("maxAttempts", maxAttempts, 1, 1000);
      Checks.inRange("queueCapacity", queueCapacity, 1, 1 << 20);
      Checks.inRange("rememberedRequests", rememberedRequests, 1, 1 << 20);
    }

    private static void positive(String field, Duration d) {
      Objects.requireNonNull(d, field);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(field + ": " + d + " is out of range; allowed > 0");
      }
    }

    /** 100 pages, 20 ms, 5 s, 60 s, 5 attempts, 256, 256. */
    public static Settings defaults() {
      return new Settings(
          KsmScanner.DEFAULT_PAGES_TO_SCAN,
          KsmScanner.DEFAULT_SLEEP_MILLISECS,
          Duration.ofSeconds(5),
          Duration.ofSeconds(60),
          5,
          256,
          256);
    }

    /**
     * Reads {@value #CONFIG_PATH}{@code .pages-to-scan}, {@code .sleep-millisecs}, {@code
     * .request-timeout}, {@code .full-scans-timeout}, {@code .max-attempts}, {@code
     * .queue-capacity}, {@code .remembered-requests}; each missing key keeps its default.
     */
    public static Settings fromConfig(Config config) {
      Settings d = defaults();
      String p = CONFIG_PATH + ".";
      return new Settings(
          config.hasPath(p + "pages-to-scan") ? config.getLong(p + "pages-to-scan") : d.pagesToScan,
          config.hasPath(p + "sleep-millisecs")
              ? config.getLong(p + "sleep-millisecs")
              : d.sleepMillisecs,
          config.hasPath(p + "request-timeout")
              ? config.getDuration(p + "request-timeout")
              : d.requestTimeout,
          config.hasPath(p + "full-scans-timeout")
              ? config.getDuration(p + "full-scans-timeout")
              : d.fullScansTimeout,
          config.hasPath(p + "max-attempts") ? config.getInt(p + "max-attempts") : d.maxAttempts,
          config.hasPath(p + "queue-capacity")
              ? config.getInt(p + "queue-capacity")
              : d.queueCapacity,
          config.hasPath(p + "remembered-requests")
              ? config.getInt(p + "remembered-requests")
              : d.rememberedRequests);
    }
  }

  /** A Ksm driving {@code pageFrame}, with the settings of the actor system's configuration. */
  public static Behavior<Command> create(ActorRef<PageFrame.Command> pageFrame) {
    return Behaviors.setup(
        ctx -> create(pageFrame, Settings.fromConfig(ctx.getSystem().settings().config())));
  }

  /**
   * A Ksm (ksmd of one host) driving the host's PageFrame {@code pageFrame}, which must have been
   * created with {@link KsmFrameScanner#factory()}. Starts with {@code run} 0.
   */
  public static Behavior<Command> create(ActorRef<PageFrame.Command> pageFrame, Settings settings) {
    Objects.requireNonNull(pageFrame, "pageFrame");
    Objects.requireNonNull(settings, "settings");
    Behavior<Command> b =
        Behaviors.setup(
            ctx -> Behaviors.withTimers(timers -> new Ksm(ctx, timers, pageFrame, settings)));
    return Behaviors.supervise(b).onFailure(SupervisorStrategy.resume());
  }

  /** The entity id of host {@code host}: {@code host-<h>} (as the host's PageFrame). */
  public static String entityId(int host) {
    return PageFrame.entityId(host);
  }

  /** The host of an entity id {@code host-<h>}. */
  public static int hostOf(String entityId) {
    return PageFrame.hostOf(entityId);
  }

  /**
   * Registers the Ksm entity type with Cluster Sharding, passivation off. Entity {@code host-<h>}
   * drives the PageFrame entity {@code host-<h>} of {@code pageFrames}, through a local child that
   * wraps its commands in {@link ShardingEnvelope}s.
   *
   * @param pageFrames the PageFrame shard region (from {@link PageFrame#initSharding}, whose
   *     entities must have been given {@link KsmFrameScanner#factory()})
   * @param role the cluster role hosting Ksm entities, or null for every node
   * @return the shard region, addressed with {@code ShardingEnvelope(entityId(h), command)}
   */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system,
      Settings settings,
      String role,
      ActorRef<ShardingEnvelope<PageFrame.Command>> pageFrames) {
    return initSharding(system, settings, role, pageFrames, null);
  }

  /**
   * As {@link #initSharding(ActorSystem, Settings, String, ActorRef)}, shards placed by {@code
   * allocation} (null: Pekko's default, which rebalances and so restarts entities empty).
   */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system,
      Settings settings,
      String role,
      ActorRef<ShardingEnvelope<PageFrame.Command>> pageFrames,
      org.apache.pekko.cluster.sharding.ShardCoordinator.ShardAllocationStrategy allocation) {
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(pageFrames, "pageFrames");
    ClusterShardingSettings shardingSettings =
        ClusterShardingSettings.create(system).withNoPassivationStrategy();
    if (role != null) {
      shardingSettings = shardingSettings.withRole(role);
    }
    Entity<Command, ShardingEnvelope<Command>> entity =
        Entity.of(
                ENTITY_KEY,
                ectx ->
                    Behaviors.<Command>setup(
                        ctx -> {
                          String id = entityId(hostOf(ectx.getEntityId()));
                          ActorRef<PageFrame.Command> pf =
                              ctx.spawn(toEntity(pageFrames, id), "page-frame");
                          return create(pf, settings);
                        }))
            .withSettings(shardingSettings);
    if (role != null) {
      entity = entity.withRole(role);
    }
    if (allocation != null) {
      entity = entity.withAllocationStrategy(allocation);
    }
    return ClusterSharding.get(system).init(entity);
  }

  /** {@link #initSharding(ActorSystem, Settings, String, ActorRef)} configured, any node. */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system, ActorRef<ShardingEnvelope<PageFrame.Command>> pageFrames) {
    return initSharding(system, Settings.fromConfig(system.settings().config()), null, pageFrames);
  }

  /** Forwards every PageFrame command to entity {@code entityId} of {@code region}. */
  private static Behavior<PageFrame.Command> toEntity(
      ActorRef<ShardingEnvelope<PageFrame.Command>> region, String entityId) {
    return Behaviors.receive(PageFrame.Command.class)
        .onAnyMessage(
            m -> {
              region.tell(new ShardingEnvelope<>(entityId, m));
              return Behaviors.same();
            })
        .build();
  }

  // ---- state ----------------------------------------------------------------------------------

  private enum TimerKey {
    TICK,
    REQUEST
  }

  private enum Kind {
    SCAN("KsmScan"),
    SET_RUN("KsmSetRun"),
    MADVISE("KsmMadvise"),
    FULL_SCANS("KsmFullScans"),
    SCAN_BATCH("KsmScan"),
    COUNTERS("GetKsmCounters");

    final String pageFrameCommand;

    Kind(String pageFrameCommand) {
      this.pageFrameCommand = pageFrameCommand;
    }
  }

  private record ClientKey(Kind kind, long requestId) {}

  /** A request to the PageFrame (a scan batch, or a client operation) and who waits for it. */
  private static final class Op {
    final Kind kind;
    final long clientId;
    final int run;
    final Madvise madvise;
    final int passes;
    final List<ActorRef<?>> waiters = new ArrayList<>(1);
    long budgetLeft;
    long visited;
    long pfRequestId;
    PageFrame.Command message;
    int attempts;

    Op(Kind kind, long clientId, int run, Madvise madvise, int passes) {
      this.kind = kind;
      this.clientId = clientId;
      this.run = run;
      this.madvise = madvise;
      this.passes = passes;
    }
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final ActorRef<PageFrame.Command> pageFrame;
  private final ActorRef<PageFrame.KsmScannerReply> adapter;
  private final Settings settings;
  private final long idBase;
  private long nextSeq = 1;

  private int run = KsmScanner.RUN_STOP;
  private int requestedRun = KsmScanner.RUN_STOP;
  private long pagesToScan;
  private long sleepMillisecs;
  private boolean wakeRequested;

  private Op current;
  private final ArrayDeque<Op> queue = new ArrayDeque<>();
  private final Map<ClientKey, Op> inFlight = new HashMap<>();
  private final Map<ClientKey, Reply> remembered;

  private long batches;
  private long coalescedTicks;
  private long handshakesWaited;
  private long retries;
  private long requestFailures;
  private long scanFailures;

  private Ksm(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      ActorRef<PageFrame.Command> pageFrame,
      Settings settings) {
    super(ctx);
    this.ctx = ctx;
    ctx.setLoggerName(Ksm.class);
    this.timers = timers;
    this.pageFrame = pageFrame;
    this.settings = settings;
    this.adapter = ctx.messageAdapter(PageFrame.KsmScannerReply.class, FromPageFrame::new);
    this.idBase = ((long) ctx.getSelf().path().uid()) << 32;
    this.pagesToScan = settings.pagesToScan();
    this.sleepMillisecs = settings.sleepMillisecs();
    int cap = settings.rememberedRequests();
    this.remembered =
        new LinkedHashMap<>(16, 0.75f, false) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<ClientKey, Reply> e) {
            return size() > cap;
          }
        };
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(SetRun.class, this::onSetRun)
        .onMessage(SetPagesToScan.class, this::onSetPagesToScan)
        .onMessage(SetSleepMillisecs.class, this::onSetSleepMillisecs)
        .onMessage(Madvise.class, this::onMadvise)
        .onMessage(FullScans.class, this::onFullScans)
        .onMessage(ScanBatch.class, this::onScanBatch)
        .onMessage(GetCounters.class, this::onGetCounters)
        .onMessage(Tick.class, this::onTick)
        .onMessage(FromPageFrame.class, this::onFromPageFrame)
        .onMessage(RequestTimedOut.class, this::onRequestTimedOut)
        .build();
  }

  // ---- controls -------------------------------------------------------------------------------

  private Behavior<Command> onSetRun(SetRun m) {
    if (m.run() < KsmScanner.RUN_STOP || m.run() > KsmScanner.RUN_UNMERGE) {
      return reject(
          m.replyTo(),
          m.requestId(),
          rangeMessage("run", m.run(), KsmScanner.RUN_STOP, KsmScanner.RUN_UNMERGE));
    }
    if (joined(new ClientKey(Kind.SET_RUN, m.requestId()), m.replyTo())) {
      return this;
    }
    requestedRun = m.run();
    return submit(new Op(Kind.SET_RUN, m.requestId(), m.run(), null, 0), m.replyTo());
  }

  private Behavior<Command> onSetPagesToScan(SetPagesToScan m) {
    if (m.pages() < 0 || m.pages() > KsmScanner.UINT_MAX) {
      return reject(
          m.replyTo(),
          m.requestId(),
          rangeMessage("pages_to_scan", m.pages(), 0, KsmScanner.UINT_MAX));
    }
    pagesToScan = m.pages();
    m.replyTo().tell(new ControlDone(m.requestId()));
    return this;
  }

  private Behavior<Command> onSetSleepMillisecs(SetSleepMillisecs m) {
    if (m.millis() < 1 || m.millis() > KsmScanner.UINT_MAX) {
      return reject(
          m.replyTo(),
          m.requestId(),
          rangeMessage("sleep_millisecs", m.millis(), 1, KsmScanner.UINT_MAX));
    }
    sleepMillisecs = m.millis();
    if (run == KsmScanner.RUN_MERGE) {
      startTicking();
    }
    m.replyTo().tell(new ControlDone(m.requestId()));
    return this;
  }

  private Behavior<Command> onMadvise(Madvise m) {
    String bad = null;
    if (m.vm() < 0 || m.vm() > PageFrames.MAX_VM) {
      bad = rangeMessage("vm", m.vm(), 0, PageFrames.MAX_VM);
    } else if (m.startPage() < 0 || m.startPage() > PageFrames.MAX_HVA_PAGE) {
      bad = rangeMessage("startPage", m.startPage(), 0, PageFrames.MAX_HVA_PAGE);
    } else if (m.pages() < 1 || m.pages() > PageFrames.MAX_HVA_PAGE + 1 - m.startPage()) {
      bad = rangeMessage("pages", m.pages(), 1, PageFrames.MAX_HVA_PAGE + 1 - m.startPage());
    }
    if (bad != null) {
      return reject(m.replyTo(), m.requestId(), bad);
    }
    if (joined(new ClientKey(Kind.MADVISE, m.requestId()), m.replyTo())) {
      return this;
    }
    return submit(new Op(Kind.MADVISE, m.requestId(), 0, m, 0), m.replyTo());
  }

  private Behavior<Command> onFullScans(FullScans m) {
    if (m.passes() < 0) {
      return reject(
          m.replyTo(), m.requestId(), rangeMessage("passes", m.passes(), 0, Integer.MAX_VALUE));
    }
    if (joined(new ClientKey(Kind.FULL_SCANS, m.requestId()), m.replyTo())) {
      return this;
    }
    if (requestedRun != KsmScanner.RUN_MERGE) {
      return reject(
          m.replyTo(),
          m.requestId(),
          "run: " + requestedRun + " is not allowed for FullScans; allowed 1 (SetRun 1 first)");
    }
    return submit(new Op(Kind.FULL_SCANS, m.requestId(), 0, null, m.passes()), m.replyTo());
  }

  private Behavior<Command> onScanBatch(ScanBatch m) {
    if (m.pages() < 1 || m.pages() > KsmScanner.UINT_MAX) {
      return reject(
          m.replyTo(), m.requestId(), rangeMessage("pages", m.pages(), 1, KsmScanner.UINT_MAX));
    }
    if (joined(new ClientKey(Kind.SCAN_BATCH, m.requestId()), m.replyTo())) {
      return this;
    }
    if (requestedRun != KsmScanner.RUN_MERGE) {
      return reject(
          m.replyTo(),
          m.requestId(),
          "run: " + requestedRun + " is not allowed for ScanBatch; allowed 1 (SetRun 1 first)");
    }
    Op op = new Op(Kind.SCAN_BATCH, m.requestId(), 0, null, 0);
    op.budgetLeft = m.pages();
    return submit(op, m.replyTo());
  }

  private Behavior<Command> onGetCounters(GetCounters m) {
    if (joined(new ClientKey(Kind.COUNTERS, m.requestId()), m.replyTo())) {
      return this;
    }
    return submit(new Op(Kind.COUNTERS, m.requestId(), 0, null, 0), m.replyTo());
  }

  // ---- schedule -------------------------------------------------------------------------------

  private void startTicking() {
    timers.startTimerWithFixedDelay(TimerKey.TICK, new Tick(), Duration.ofMillis(sleepMillisecs));
  }

  private Behavior<Command> onTick(Tick t) {
    if (run != KsmScanner.RUN_MERGE) {
      return this;
    }
    if (current != null || !queue.isEmpty()) {
      coalescedTicks++;
      return this;
    }
    startScan();
    return this;
  }

  private void startScan() {
    if (pagesToScan == 0) {
      return; // ksm_do_scan(0): nothing to do
    }
    Op scan = new Op(Kind.SCAN, -1, 0, null, 0);
    scan.budgetLeft = pagesToScan;
    start(scan);
  }

  /** The PageFrame confirmed {@code run}: the timer follows it; 0 to 1 wakes ksmd at once. */
  private void applyRun(int newRun) {
    int old = run;
    run = newRun;
    if (newRun == KsmScanner.RUN_MERGE) {
      if (old != KsmScanner.RUN_MERGE) {
        startTicking();
        wakeRequested = true;
      }
    } else {
      timers.cancel(TimerKey.TICK);
      wakeRequested = false;
    }
  }

  // ---- requests to the PageFrame --------------------------------------------------------------

  /** A client op: joins the in-flight op of the same key, or is answered from memory. */
  private boolean joined(ClientKey key, ActorRef<?> replyTo) {
    Reply prior = remembered.get(key);
    if (prior != null) {
      tell(replyTo, prior);
      return true;
    }
    Op op = inFlight.get(key);
    if (op != null) {
      op.waiters.add(replyTo);
      return true;
    }
    return false;
  }

  private Behavior<Command> submit(Op op, ActorRef<?> replyTo) {
    op.waiters.add(replyTo);
    if (current == null && queue.isEmpty()) {
      inFlight.put(new ClientKey(op.kind, op.clientId), op);
      start(op);
    } else if (queue.size() >= settings.queueCapacity()) {
      tell(
          replyTo,
          new Rejected(
              op.clientId,
              "queue: full ("
                  + settings.queueCapacity()
                  + " operations wait for the PageFrame); retry later"));
    } else {
      inFlight.put(new ClientKey(op.kind, op.clientId), op);
      queue.add(op);
    }
    return this;
  }

  private void start(Op op) {
    current = op;
    send(op);
  }

  /** Sends the op's next request under a new requestId. */
  private void send(Op op) {
    long id = idBase | (nextSeq++ & 0xFFFF_FFFFL);
    op.pfRequestId = id;
    op.attempts = 1;
    op.message =
        switch (op.kind) {
          case SCAN, SCAN_BATCH -> new PageFrame.KsmScan(id, op.budgetLeft, adapter);
          case SET_RUN -> new PageFrame.KsmSetRun(id, op.run, adapter);
          case MADVISE ->
              new PageFrame.KsmMadvise(
                  id,
                  op.madvise.vm(),
                  op.madvise.startPage(),
                  op.madvise.pages(),
                  op.madvise.mergeable(),
                  adapter);
          case FULL_SCANS -> new PageFrame.KsmFullScans(id, op.passes, adapter);
          case COUNTERS -> new PageFrame.GetKsmCounters(id, adapter);
        };
    transmit(op);
  }

  private void transmit(Op op) {
    pageFrame.tell(op.message);
    Duration timeout =
        op.kind == Kind.FULL_SCANS ? settings.fullScansTimeout() : settings.requestTimeout();
    timers.startSingleTimer(TimerKey.REQUEST, new RequestTimedOut(op.pfRequestId), timeout);
  }

  private Behavior<Command> onRequestTimedOut(RequestTimedOut m) {
    Op op = current;
    if (op == null || op.pfRequestId != m.pfRequestId()) {
      return this;
    }
    if (op.attempts < settings.maxAttempts()) {
      op.attempts++;
      retries++;
      transmit(op); // same requestId: the PageFrame answers a retry from memory
      return this;
    }
    requestFailures++;
    String cause =
        "page-frame: no reply to "
            + op.kind.pageFrameCommand
            + " after "
            + op.attempts
            + " attempts";
    ctx.getLog().warn("{} (request {})", cause, op.pfRequestId);
    if (op.kind == Kind.SCAN) {
      scanFailures++;
    } else {
      answer(op, new Failed(op.clientId, cause), false);
    }
    return finish();
  }

  private Behavior<Command> onFromPageFrame(FromPageFrame w) {
    PageFrame.KsmScannerReply r = w.reply();
    Op op = current;
    if (op == null || requestIdOf(r) != op.pfRequestId) {
      ctx.getLog().debug("late or duplicate PageFrame reply ignored: {}", r);
      return this;
    }
    timers.cancel(TimerKey.REQUEST);
    if (r instanceof PageFrame.Rejected rej) {
      return pageFrameRefused(op, new Rejected(op.clientId, rej.reason()), rej.reason());
    }
    if (r instanceof PageFrame.Failed f) {
      return pageFrameRefused(op, new Failed(op.clientId, f.cause()), f.cause());
    }
    switch (op.kind) {
      case SCAN, SCAN_BATCH -> {
        PageFrame.KsmScanned s = (PageFrame.KsmScanned) r;
        op.budgetLeft -= s.visited();
        op.visited += s.visited();
        if (s.handshakePending()) {
          handshakesWaited++;
          if (requestedRun == KsmScanner.RUN_MERGE && op.budgetLeft > 0) {
            send(op); // the handshake is complete: go on with the rest of the batch at once
            return this;
          }
        }
        batches++;
        if (op.kind == Kind.SCAN_BATCH) {
          answer(op, new ScanBatchDone(op.clientId, op.visited), true);
        }
      }
      case SET_RUN -> {
        applyRun(op.run);
        answer(op, new ControlDone(op.clientId), true);
      }
      case MADVISE -> answer(op, new ControlDone(op.clientId), true);
      case FULL_SCANS -> {
        PageFrame.KsmFullScansDone d = (PageFrame.KsmFullScansDone) r;
        handshakesWaited += d.handshakes();
        answer(op, new FullScansDone(op.clientId, d.passes()), true);
      }
      case COUNTERS -> {
        PageFrame.KsmCounters c = (PageFrame.KsmCounters) r;
        Map<String, Long> all = new LinkedHashMap<>(c.counters());
        all.putAll(ownCounters());
        answer(op, new Counters(op.clientId, all, c.violations()), true);
      }
    }
    return finish();
  }

  private Behavior<Command> pageFrameRefused(Op op, Reply reply, String why) {
    if (op.kind == Kind.SCAN) {
      scanFailures++;
      ctx.getLog().error("KSM batch refused by the PageFrame: {}", why);
    } else {
      answer(op, reply, false);
    }
    return finish();
  }

  private Map<String, Long> ownCounters() {
    Map<String, Long> c = new LinkedHashMap<>();
    c.put("run", (long) run);
    c.put("pages_to_scan", pagesToScan);
    c.put("sleep_millisecs", sleepMillisecs);
    c.put("batches", batches);
    c.put("coalesced_ticks", coalescedTicks);
    c.put("handshakes_waited", handshakesWaited);
    c.put("retries", retries);
    c.put("request_failures", requestFailures);
    c.put("scan_failures", scanFailures);
    return c;
  }

  private void answer(Op op, Reply reply, boolean remember) {
    ClientKey key = new ClientKey(op.kind, op.clientId);
    inFlight.remove(key);
    if (remember) {
      remembered.put(key, reply);
    }
    for (ActorRef<?> w : op.waiters) {
      tell(w, reply);
    }
  }

  /** The outstanding op is done: the next queued one, or the batch a run=1 wake asked for. */
  private Behavior<Command> finish() {
    current = null;
    Op next = queue.poll();
    if (next != null) {
      start(next);
    } else if (wakeRequested && run == KsmScanner.RUN_MERGE) {
      wakeRequested = false;
      startScan();
    }
    return this;
  }

  // ---- helpers --------------------------------------------------------------------------------

  private static long requestIdOf(PageFrame.KsmScannerReply r) {
    if (r instanceof PageFrame.KsmScanned s) {
      return s.requestId();
    } else if (r instanceof PageFrame.KsmControlDone d) {
      return d.requestId();
    } else if (r instanceof PageFrame.KsmFullScansDone d) {
      return d.requestId();
    } else if (r instanceof PageFrame.KsmCounters c) {
      return c.requestId();
    } else if (r instanceof PageFrame.Rejected rej) {
      return rej.requestId();
    } else {
      return ((PageFrame.Failed) r).requestId();
    }
  }

  private static String rangeMessage(String field, long value, long min, long max) {
    return field + ": " + value + " is out of range; allowed " + min + " to " + max;
  }

  private Behavior<Command> reject(ActorRef<?> replyTo, long requestId, String reason) {
    tell(replyTo, new Rejected(requestId, reason));
    return this;
  }

  @SuppressWarnings("unchecked")
  private static void tell(ActorRef<?> to, Reply reply) {
    ((ActorRef<Object>) to).tell(reply);
  }
}
