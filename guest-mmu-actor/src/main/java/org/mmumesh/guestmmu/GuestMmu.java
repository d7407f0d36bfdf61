package org.mmumesh.guestmmu;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Supplier;
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
import org.mmumesh.common.Access;
import org.mmumesh.common.CborSerializable;
import org.mmumesh.common.Checks;
import org.mmumesh.common.HostFlush;

/**
 * One VM's guest MMU as an actor (architecture 2, 4): a thin shell around {@link GuestMmuPort}
 * ({@link Guest32} / {@link Guest64}: the guest HTAB words in guest memory and every vCPU's SRs,
 * BATs or SLB and SDR1, which is per vCPU as in PR KVM, {@code to_book3s(vcpu)->sdr1}) and the
 * {@link GuestKernel} model that handles the exceptions reflected to the guest. All decisions are
 * the cores'; the actor routes, validates indexes, remembers replies and sequences host flushes.
 *
 * <p><b>Protocol.</b> {@link Xlate} is step 1 of the fault handler (spec 6.2): the guest xlate with
 * R/C updates when relocation is on, and always the tagged guest VSID of the segment. {@link
 * HandleException} runs the guest kernel's handler for a reflected DSI/ISI/segment interrupt.
 * {@link EnterHpte}, {@link RemoveHpte} and {@link ReadRc} manage the guest HTAB for clients
 * (H_ENTER, H_REMOVE, the R/C bits). {@link EsidToVsid} and {@link GetMode} answer vCPUs whose
 * cached VSIDs or TLB tags need refreshing.
 *
 * <p><b>Reply typing.</b> Each request kind has its own sealed reply family ({@link XlateReply},
 * {@link ExceptionReply}, ...) holding its success record plus {@link Rejected} (bad input: the
 * reason names the field and the allowed range; nothing changed) and, where a core runs, {@link
 * Failed} (a core threw unexpectedly or the host did not confirm a flush). {@link GetMode} has no
 * request id: its {@link Rejected} carries {@code requestId = -1}.
 *
 * <p><b>Guest tlbie (spec 5.6 "Users", architecture 4 "Invalidation").</b> Every flush the kernel
 * asks for while handling a request (an eviction's H_REMOVE + tlbie, a protection upgrade, a
 * client's {@link RemoveHpte}) is sent to the VM's host MMU as a {@link HostTlbie}, and the reply
 * goes out only when every {@link TlbieDone} arrived ({@code tlbie; tlbsync}). The guest HTAB
 * change itself is made at once, as a guest's store to its HTAB is visible before its tlbie
 * completes. If the host does not answer within the tlbie timeout ({@value #TLBIE_TIMEOUT_CONFIG},
 * default {@link #DEFAULT_TLBIE_TIMEOUT}), the request gets a failure reply and a warning is
 * logged; the unacknowledged flushes are owed and are sent again, first, with the next request that
 * flushes (or with a retry of the same request).
 *
 * <p><b>Idempotency.</b> For the requests that change state ({@link Xlate} sets R/C, {@link
 * HandleException}, {@link EnterHpte}, {@link RemoveHpte}) the actor remembers the last request of
 * each vCPU (kind, request id, reply). The same kind and request id again gets the remembered reply
 * without re-applying (after waiting for its flushes if they are still in flight or owed). A
 * different kind or id replaces the memory, so memory is one reply per vCPU. Read-only requests are
 * simply recomputed. {@link Rejected} replies are not remembered.
 *
 * <p><b>Failures and state.</b> Bad input never reaches the cores unchecked; a core that throws is
 * caught per message, logged with the vCPU and address, and answered with {@link Failed}; flushes
 * it had already asked for are still carried out. The actor is supervised with <em>resume</em>, not
 * restart: its state is guest memory (the HTAB) and guest registers, which a restart would wipe.
 *
 * <p><b>Sharding and passivation.</b> Entity type {@link #ENTITY_KEY}, entity id {@code vm-<v>}
 * ({@link #entityId}). The guest HTAB is guest memory and must not be lost, so {@link
 * #initSharding} disables passivation. The state is held in memory only: a shard rebalance or a
 * node loss would still lose it, so deployments must keep rebalancing off for this entity type
 * until persistence of the HTAB words and CPU state (event sourcing or snapshots) exists; that is
 * future work.
 */
public final class GuestMmu extends AbstractBehavior<GuestMmu.Command> {

  /** The sharded entity type; entity ids are {@code vm-<v>}. */
  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "GuestMmu");

  /** The configuration path of the host tlbie timeout (a duration). */
  public static final String TLBIE_TIMEOUT_CONFIG = "mmumesh.guest-mmu.tlbie-timeout";

  /** The host tlbie timeout when the configuration does not set one. */
  public static final Duration DEFAULT_TLBIE_TIMEOUT = Duration.ofSeconds(5);

  // ---- Protocol -------------------------------------------------------------------------------

  /** Everything the actor accepts. */
  public sealed interface Command extends CborSerializable {}

  /** The answers to {@link Xlate}. */
  public sealed interface XlateReply extends CborSerializable {}

  /** The answers to {@link HandleException}. */
  public sealed interface ExceptionReply extends CborSerializable {}

  /** The answers to {@link EsidToVsid}. */
  public sealed interface VsidReply extends CborSerializable {}

  /** The answers to {@link GetMode}. */
  public sealed interface ModeReply extends CborSerializable {}

  /** The answers to {@link EnterHpte}. */
  public sealed interface EnterReply extends CborSerializable {}

  /** The answers to {@link RemoveHpte}. */
  public sealed interface RemoveReply extends CborSerializable {}

  /** The answers to {@link ReadRc}. */
  public sealed interface RcReply extends CborSerializable {}

  /** What a {@link SetVcpuState} requester receives. */
  public sealed interface StateReply extends CborSerializable {}

  /**
   * The guest xlate of {@code ea} for {@code access} when {@code relocated} (guest-visible: R/C are
   * updated), and always the tagged guest VSID of {@code ea}'s segment (spec 6.2).
   */
  public record Xlate(
      long requestId,
      int vcpu,
      long ea,
      Access access,
      boolean relocated,
      ActorRef<XlateReply> replyTo)
      implements Command {}

  /**
   * {@code result} is {@code port.xlate(vcpu, ea, access, true)} when relocated, else null; {@code
   * gvsid} is {@code esidToVsid(vcpu, ea >>> 28)} ({@code VsidTags.NO_VSID} when no segment).
   */
  public record Translated(long requestId, XlateResult result, long gvsid) implements XlateReply {}

  /**
   * The guest kernel's handler for exception {@code vector} at {@code ea} with the DSISR / SRR1
   * bits the guest was given (spec 6.2 "reflect").
   */
  public record HandleException(
      long requestId,
      int vcpu,
      int vector,
      long dsisr,
      long srr1Bits,
      long ea,
      ActorRef<ExceptionReply> replyTo)
      implements Command {}

  /**
   * The guest handled the exception: {@code retry} when the access should be retried, else {@code
   * failure} says why it failed (null on retry); {@code segmentsChanged} when the kernel loaded an
   * SLB entry, so the vCPU must drop its cached guest VSIDs. Sent after the host confirmed every
   * flush.
   */
  public record ExceptionHandled(
      long requestId, boolean retry, String failure, boolean segmentsChanged)
      implements ExceptionReply {}

  /** {@code esid_to_vsid} for segment {@code esid} of vCPU {@code vcpu} (spec 5.2). */
  public record EsidToVsid(long requestId, int vcpu, long esid, ActorRef<VsidReply> replyTo)
      implements Command {}

  /** The tagged guest VSID ({@code VsidTags.NO_VSID} when no segment translates it). */
  public record VsidOf(long requestId, long gvsid) implements VsidReply {}

  /** The vCPU's translation mode. */
  public record GetMode(int vcpu, ActorRef<ModeReply> replyTo) implements Command {}

  /** The mode as 3 bits: PR (4), IR (2), DR (1), as {@link GuestMmuPort#mode}. */
  public record ModeOf(int mode) implements ModeReply {}

  /** H_ENTER: an HPTE for {@code ea} -> {@code gfn} with PP bits {@code pp}. */
  public record EnterHpte(
      long requestId, int vcpu, long ea, long gfn, int pp, ActorRef<EnterReply> replyTo)
      implements Command {}

  /** The HPTE's guest-real address, or -1 when both PTEGs are full (nothing changed). */
  public record HpteEntered(long requestId, long pteAddr) implements EnterReply {}

  /** H_REMOVE of the HPTE translating {@code ea}, then a tlbie carried out by the host. */
  public record RemoveHpte(long requestId, int vcpu, long ea, ActorRef<RemoveReply> replyTo)
      implements Command {}

  /** Whether an HPTE was removed; sent after the host confirmed the flush. */
  public record HpteRemoved(long requestId, boolean removed) implements RemoveReply {}

  /** The R and C bits of the HPTE translating {@code ea}; {@link Rejected} when none does. */
  public record ReadRc(long requestId, int vcpu, long ea, ActorRef<RcReply> replyTo)
      implements Command {}

  /** The HPTE's referenced and changed bits. */
  public record RcOf(long requestId, boolean r, boolean c) implements RcReply {}

  /**
   * Clears R and/or C of the HPTE translating {@code ea}, then the guest's tlbie of the page (so a
   * later store is seen again); answered {@link RcOf} with the bits <em>before</em> the change,
   * after the host confirmed the flush; {@link Rejected} when no HPTE translates {@code ea}.
   */
  public record ClearRc(
      long requestId, int vcpu, long ea, boolean clearR, boolean clearC, ActorRef<RcReply> replyTo)
      implements Command {}

  /**
   * Changes vCPU {@code vcpu}'s translation state (segment registers, SLB, BATs, MSR bits, SDR1),
   * all or nothing: a change that does not fit the guest (an SLB entry on a 32-bit guest, an index
   * out of range, an SDR1 of 0 or naming a table that is misaligned or leaves guest memory) is
   * {@link Rejected} naming the change ({@code changes[i]}) and the field, and nothing changes.
   * Re-sending the same changes is harmless. The vCPU that uses this state must drop its cached
   * translations and, after an SDR1 change, every shadow PTE ({@code kvmppc_mmu_pte_flush(vcpu, 0,
   * 0)}): the {@code Vcpu} actor does both after every change that comes through it.
   */
  public record SetVcpuState(
      long requestId, int vcpu, List<VcpuStateChange> changes, ActorRef<StateReply> replyTo)
      implements Command {}

  /** The changes are applied; {@code mode} is the vCPU's new mode bits (as {@link ModeOf}). */
  public record VcpuStateSet(long requestId, int mode) implements StateReply {}

  /** The guest kernel's event counters (the engine's guest statistics). */
  public record GetKernelEvents(ActorRef<KernelEvents> replyTo) implements Command {}

  /** How often the guest kernel did each thing ({@link GuestKernel.Event}). */
  public record KernelEvents(
      long demandMaps, long evictions, long slbLoads, long protUpgrades, long misreportedNotFound)
      implements CborSerializable {}

  /**
   * Read-only: the guest HTAB's non-zero words (guest memory, e.g. for comparing two engines): the
   * words of every table the VM's vCPUs have used (one table unless a guest set SDR1). Answered
   * {@link HtabDumped}; changes nothing.
   */
  public record DumpHtab(long requestId, ActorRef<HtabReply> replyTo) implements Command {}

  /** What a {@link DumpHtab} requester receives. */
  public sealed interface HtabReply extends CborSerializable {}

  /**
   * The guest HTAB's non-zero words in address order: {@code words[i]} is at guest-real address
   * {@code addrs[i]}.
   */
  public record HtabDumped(long requestId, long[] addrs, long[] words) implements HtabReply {

    @Override
    public boolean equals(Object o) {
      return o instanceof HtabDumped d
          && d.requestId == requestId
          && java.util.Arrays.equals(d.addrs, addrs)
          && java.util.Arrays.equals(d.words, words);
    }

    @Override
    public int hashCode() {
      return Objects.hash(
          requestId, java.util.Arrays.hashCode(addrs), java.util.Arrays.hashCode(words));
    }

    @Override
    public String toString() {
      return "HtabDumped[requestId="
          + requestId
          + ", words="
          + words.length
          + ", addrs="
          + java.util.Arrays.toString(addrs)
          + ", words="
          + java.util.Arrays.toString(words)
          + "]";
    }
  }

  /** The host's answer to {@link HostTlbie}: the flush is done on every vCPU of the VM. */
  public record TlbieDone(long requestId) implements Command {}

  /**
   * Bad input: {@code reason} names the field and the allowed range (or the missing state, e.g. no
   * HPTE for {@link ReadRc}). Nothing changed. {@code requestId} is -1 for {@link GetMode}.
   */
  public record Rejected(long requestId, String reason)
      implements XlateReply,
          ExceptionReply,
          VsidReply,
          ModeReply,
          EnterReply,
          RemoveReply,
          RcReply,
          StateReply,
          HtabReply {}

  /**
   * A core threw unexpectedly (logged with the vCPU and address), or the host did not confirm a
   * flush of a {@link RemoveHpte} in time.
   */
  public record Failed(long requestId, String cause)
      implements XlateReply,
          ExceptionReply,
          VsidReply,
          EnterReply,
          RemoveReply,
          RcReply,
          StateReply {}

  /**
   * A guest tlbie for the VM's host MMU (spec 5.6 "Users"): carry out {@code flush} on every vCPU
   * of the VM, removing the entries from every vCPU TLB too, then answer {@link TlbieDone} with the
   * same {@code requestId}. Defined here because the host MMU module may not depend on this one's
   * users; the host side adapts it.
   */
  public record HostTlbie(
      long requestId,
      @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
          @JsonSubTypes({
            @JsonSubTypes.Type(value = HostFlush.PteFlush.class, name = "pteFlush"),
            @JsonSubTypes.Type(value = HostFlush.PteVflush.class, name = "pteVflush")
          })
          HostFlush flush,
      ActorRef<TlbieDone> replyTo)
      implements CborSerializable {}

  /** The tlbie timeout of operation {@code opId} expired. */
  private record TlbieTimedOut(long opId) implements Command {}

  // ---- State ----------------------------------------------------------------------------------

  /** The remembered last state-changing request of one vCPU. */
  private static final class Remembered {
    final Class<?> kind;
    final long requestId;
    final int vcpu;
    final long ea;
    final Object reply;

    /** The reply when the host does not confirm the flushes; null for kinds that never flush. */
    final Function<String, Object> onTimeout;

    PendingOp pending;

    Remembered(
        Class<?> kind,
        long requestId,
        int vcpu,
        long ea,
        Object reply,
        Function<String, Object> onTimeout) {
      this.kind = kind;
      this.requestId = requestId;
      this.vcpu = vcpu;
      this.ea = ea;
      this.reply = reply;
      this.onTimeout = onTimeout;
    }
  }

  /** A reply waiting for the host's {@link TlbieDone}s. */
  private static final class PendingOp {
    final long id;
    final Remembered request;
    final List<ActorRef<Object>> waiters = new ArrayList<>(1);
    final Map<Long, HostFlush> unacked = new LinkedHashMap<>();
    int total;

    PendingOp(long id, Remembered request) {
      this.id = id;
      this.request = request;
    }
  }

  private final GuestMmuPort port;
  private final GuestKernel kernel;
  private final ActorRef<HostTlbie> host;
  private final TimerScheduler<Command> timers;
  private final Duration tlbieTimeout;
  private final ActorRef<TlbieDone> self;
  private final List<HostFlush> collected = new ArrayList<>();
  private final List<HostFlush> owed = new ArrayList<>();
  private final Remembered[] last;
  private final Map<Long, PendingOp> opByTlbie = new HashMap<>();
  private final Map<Long, PendingOp> ops = new HashMap<>();
  private final long[] eventCounts = new long[GuestKernel.Event.values().length];
  private boolean segmentLoaded;
  private long nextTlbieId = 1;
  private long nextOpId = 1;

  private GuestMmu(
      ActorContext<Command> context,
      GuestSetup setup,
      GuestMmuPort port,
      ActorRef<HostTlbie> host,
      TimerScheduler<Command> timers,
      Duration tlbieTimeout) {
    super(context);
    context.setLoggerName(GuestMmu.class);
    this.port = port;
    this.host = host;
    this.timers = timers;
    this.tlbieTimeout = tlbieTimeout;
    this.self = context.getSelf().narrow();
    this.last = new Remembered[port.vcpus()];
    this.kernel = setup.newKernel(port, this::onKernelEvent, collected::add);
  }

  // ---- Creation and sharding ------------------------------------------------------------------

  /**
   * The guest MMU of one VM, its tlbie timeout from {@value #TLBIE_TIMEOUT_CONFIG} (default {@link
   * #DEFAULT_TLBIE_TIMEOUT}). A setup whose SDR1 does not fit gives an actor that rejects every
   * request with the reason.
   *
   * @param host the VM's host MMU, which carries out guest tlbies
   */
  public static Behavior<Command> create(GuestSetup setup, ActorRef<HostTlbie> host) {
    Objects.requireNonNull(setup, "setup");
    Objects.requireNonNull(host, "host");
    return supervised(
        Behaviors.setup(
            ctx -> {
              Config c = ctx.getSystem().settings().config();
              Duration t =
                  c.hasPath(TLBIE_TIMEOUT_CONFIG)
                      ? c.getDuration(TLBIE_TIMEOUT_CONFIG)
                      : DEFAULT_TLBIE_TIMEOUT;
              return build(ctx, setup, host, t);
            }));
  }

  /** As {@link #create(GuestSetup, ActorRef)} with an explicit tlbie timeout. */
  public static Behavior<Command> create(
      GuestSetup setup, ActorRef<HostTlbie> host, Duration tlbieTimeout) {
    Objects.requireNonNull(setup, "setup");
    Objects.requireNonNull(host, "host");
    if (tlbieTimeout == null || tlbieTimeout.isNegative() || tlbieTimeout.isZero()) {
      throw new IllegalArgumentException(
          "tlbieTimeout: " + tlbieTimeout + " is out of range; allowed: a positive duration");
    }
    return supervised(Behaviors.setup(ctx -> build(ctx, setup, host, tlbieTimeout)));
  }

  private static Behavior<Command> supervised(Behavior<Command> b) {
    return Behaviors.supervise(b).onFailure(RuntimeException.class, SupervisorStrategy.resume());
  }

  private static Behavior<Command> build(
      ActorContext<Command> ctx, GuestSetup setup, ActorRef<HostTlbie> host, Duration timeout) {
    GuestMmuPort port;
    try {
      port = setup.newPort();
    } catch (IllegalArgumentException e) {
      ctx.getLog().error("guest MMU setup refused: {}", e.getMessage());
      return rejectingAll("setup: " + e.getMessage());
    }
    return Behaviors.withTimers(timers -> new GuestMmu(ctx, setup, port, host, timers, timeout));
  }

  /** The entity id of VM {@code vm}: {@code vm-<v>}. */
  public static String entityId(int vm) {
    Checks.inRange("vm", vm, 0, Integer.MAX_VALUE);
    return "vm-" + vm;
  }

  /**
   * The VM number of entity id {@code vm-<v>}.
   *
   * @throws IllegalArgumentException naming {@code entityId} and the allowed form
   */
  public static int vmOf(String entityId) {
    if (entityId != null && entityId.startsWith("vm-") && entityId.length() > 3) {
      String digits = entityId.substring(3);
      if (digits.chars().allMatch(ch -> ch >= '0' && ch <= '9') && digits.length() <= 10) {
        long v = Long.parseLong(digits);
        if (v <= Integer.MAX_VALUE) {
          return (int) v;
        }
      }
    }
    throw new IllegalArgumentException(
        "entityId: '" + entityId + "' is not a VM entity id; allowed: vm-0 to vm-2147483647");
  }

  /**
   * Registers the {@code GuestMmu} entity type with Cluster Sharding, passivation disabled (the
   * guest HTAB is guest memory; see the class comment about rebalancing).
   *
   * @param setupOf the setup of VM {@code v}
   * @param hostOf the host MMU of VM {@code v} (an adapter to its sharded {@code HostMmu})
   * @return the shard region
   */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system,
      IntFunction<GuestSetup> setupOf,
      IntFunction<ActorRef<HostTlbie>> hostOf) {
    return initSharding(system, setupOf, hostOf, null);
  }

  /** As {@link #initSharding(ActorSystem, IntFunction, IntFunction)} on nodes with {@code role}. */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system,
      IntFunction<GuestSetup> setupOf,
      IntFunction<ActorRef<HostTlbie>> hostOf,
      String role) {
    Entity<Command, ShardingEnvelope<Command>> entity =
        Entity.of(ENTITY_KEY, ctx -> forEntity(ctx.getEntityId(), setupOf, hostOf))
            .withSettings(ClusterShardingSettings.create(system).withNoPassivationStrategy());
    if (role != null) {
      entity = entity.withRole(role);
    }
    return ClusterSharding.get(system).init(entity);
  }

  static Behavior<Command> forEntity(
      String entityId, IntFunction<GuestSetup> setupOf, IntFunction<ActorRef<HostTlbie>> hostOf) {
    try {
      int vm = vmOf(entityId);
      return create(setupOf.apply(vm), hostOf.apply(vm));
    } catch (IllegalArgumentException | NullPointerException e) {
      return rejectingAll(entityId + ": " + e.getMessage());
    }
  }

  /** A VM that could not be built: every request is rejected with {@code reason}. */
  static Behavior<Command> rejectingAll(String reason) {
    return Behaviors.receive(Command.class)
        .onAnyMessage(
            cmd -> {
              rejectOne(cmd, reason);
              return Behaviors.same();
            })
        .build();
  }

  private static void rejectOne(Command cmd, String reason) {
    if (cmd instanceof Xlate m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof HandleException m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof EsidToVsid m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof GetMode m) {
      m.replyTo().tell(new Rejected(-1, reason));
    } else if (cmd instanceof EnterHpte m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof RemoveHpte m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof ReadRc m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof DumpHtab m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof ClearRc m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof SetVcpuState m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof GetKernelEvents m) {
      m.replyTo().tell(new KernelEvents(0, 0, 0, 0, 0));
    }
    // TlbieDone and timer messages need no answer.
  }

  // ---- Message handlers -----------------------------------------------------------------------

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Xlate.class, this::onXlate)
        .onMessage(HandleException.class, this::onHandleException)
        .onMessage(EsidToVsid.class, this::onEsidToVsid)
        .onMessage(GetMode.class, this::onGetMode)
        .onMessage(EnterHpte.class, this::onEnterHpte)
        .onMessage(RemoveHpte.class, this::onRemoveHpte)
        .onMessage(ReadRc.class, this::onReadRc)
        .onMessage(ClearRc.class, this::onClearRc)
        .onMessage(SetVcpuState.class, this::onSetVcpuState)
        .onMessage(GetKernelEvents.class, this::onGetKernelEvents)
        .onMessage(DumpHtab.class, this::onDumpHtab)
        .onMessage(TlbieDone.class, this::onTlbieDone)
        .onMessage(TlbieTimedOut.class, this::onTlbieTimedOut)
        .build();
  }

  private Behavior<Command> onXlate(Xlate m) {
    String bad = m.access() == null ? "access: null; allowed LOAD, STORE or IFETCH" : null;
    if (bad == null) {
      bad = checkVcpuEa(m.vcpu(), m.ea());
    }
    if (bad != null) {
      m.replyTo().tell(new Rejected(m.requestId(), bad));
      return this;
    }
    if (replayed(m.vcpu(), m.requestId(), Xlate.class, m.replyTo())) {
      return this;
    }
    XlateReply reply =
        callCore(
            m.vcpu(),
            m.requestId(),
            m.ea(),
            "xlate",
            () ->
                new Translated(
                    m.requestId(),
                    m.relocated() ? port.xlate(m.vcpu(), m.ea(), m.access(), true) : null,
                    port.esidToVsid(m.vcpu(), m.ea() >>> 28)));
    answer(m.vcpu(), m.requestId(), m.ea(), Xlate.class, reply, m.replyTo());
    return this;
  }

  private Behavior<Command> onHandleException(HandleException m) {
    String bad = checkVcpuEa(m.vcpu(), m.ea());
    if (bad != null) {
      m.replyTo().tell(new Rejected(m.requestId(), bad));
      return this;
    }
    if (replayed(m.vcpu(), m.requestId(), HandleException.class, m.replyTo())) {
      return this;
    }
    segmentLoaded = false;
    collected.clear();
    ExceptionReply reply =
        callCore(
            m.vcpu(),
            m.requestId(),
            m.ea(),
            "guest exception handler",
            () -> {
              GuestKernel.Outcome o =
                  kernel.handle(m.vcpu(), m.vector(), m.dsisr(), m.srr1Bits(), m.ea());
              boolean retry = o == GuestKernel.Outcome.RETRY;
              return new ExceptionHandled(
                  m.requestId(), retry, retry ? null : kernel.lastFailure(), segmentLoaded);
            });
    boolean segments = segmentLoaded;
    answerAfterFlushes(
        m.vcpu(),
        m.requestId(),
        m.ea(),
        HandleException.class,
        reply,
        m.replyTo(),
        why -> new ExceptionHandled(m.requestId(), false, why, segments));
    return this;
  }

  private Behavior<Command> onEsidToVsid(EsidToVsid m) {
    String bad = check(() -> port.checkVcpu(m.vcpu()), () -> port.checkEsid(m.esid()));
    VsidReply reply =
        bad != null
            ? new Rejected(m.requestId(), bad)
            : callCore(
                m.vcpu(),
                m.requestId(),
                m.esid() << 28,
                "esidToVsid",
                () -> new VsidOf(m.requestId(), port.esidToVsid(m.vcpu(), m.esid())));
    m.replyTo().tell(reply);
    return this;
  }

  private Behavior<Command> onGetMode(GetMode m) {
    String bad = check(() -> port.checkVcpu(m.vcpu()));
    m.replyTo().tell(bad != null ? new Rejected(-1, bad) : new ModeOf(port.mode(m.vcpu())));
    return this;
  }

  private Behavior<Command> onEnterHpte(EnterHpte m) {
    String bad = checkVcpuEa(m.vcpu(), m.ea());
    if (bad != null) {
      m.replyTo().tell(new Rejected(m.requestId(), bad));
      return this;
    }
    if (replayed(m.vcpu(), m.requestId(), EnterHpte.class, m.replyTo())) {
      return this;
    }
    EnterReply reply =
        callCore(
            m.vcpu(),
            m.requestId(),
            m.ea(),
            "H_ENTER",
            () -> new HpteEntered(m.requestId(), kernel.enter(m.vcpu(), m.ea(), m.gfn(), m.pp())));
    answer(m.vcpu(), m.requestId(), m.ea(), EnterHpte.class, reply, m.replyTo());
    return this;
  }

  private Behavior<Command> onRemoveHpte(RemoveHpte m) {
    String bad = checkVcpuEa(m.vcpu(), m.ea());
    if (bad != null) {
      m.replyTo().tell(new Rejected(m.requestId(), bad));
      return this;
    }
    if (replayed(m.vcpu(), m.requestId(), RemoveHpte.class, m.replyTo())) {
      return this;
    }
    collected.clear();
    RemoveReply reply =
        callCore(
            m.vcpu(),
            m.requestId(),
            m.ea(),
            "H_REMOVE",
            () -> new HpteRemoved(m.requestId(), kernel.remove(m.vcpu(), m.ea())));
    answerAfterFlushes(
        m.vcpu(),
        m.requestId(),
        m.ea(),
        RemoveHpte.class,
        reply,
        m.replyTo(),
        why -> new Failed(m.requestId(), why));
    return this;
  }

  private Behavior<Command> onReadRc(ReadRc m) {
    String bad = checkVcpuEa(m.vcpu(), m.ea());
    RcReply reply =
        bad != null
            ? new Rejected(m.requestId(), bad)
            : callCore(
                m.vcpu(),
                m.requestId(),
                m.ea(),
                "read R/C",
                () -> {
                  long pte = port.findPte(m.vcpu(), m.ea());
                  if (pte < 0) {
                    return new Rejected(
                        m.requestId(),
                        "ea: no HPTE translates 0x"
                            + Long.toHexString(m.ea())
                            + " for vCPU "
                            + m.vcpu()
                            + "; allowed: an address with a valid HPTE");
                  }
                  return new RcOf(m.requestId(), port.rBit(pte), port.cBit(pte));
                });
    m.replyTo().tell(reply);
    return this;
  }

  private Behavior<Command> onClearRc(ClearRc m) {
    String bad = checkVcpuEa(m.vcpu(), m.ea());
    if (bad != null) {
      m.replyTo().tell(new Rejected(m.requestId(), bad));
      return this;
    }
    if (replayed(m.vcpu(), m.requestId(), ClearRc.class, m.replyTo())) {
      return this;
    }
    collected.clear();
    RcReply reply =
        callCore(
            m.vcpu(),
            m.requestId(),
            m.ea(),
            "clear R/C",
            () -> {
              long pte = port.findPte(m.vcpu(), m.ea());
              if (pte < 0) {
                return new Rejected(m.requestId(), noHpte(m.vcpu(), m.ea()));
              }
              boolean[] before = port.clearRc(pte, m.clearR(), m.clearC());
              collected.add(port.tlbieFor(m.vcpu(), m.ea()));
              return new RcOf(m.requestId(), before[0], before[1]);
            });
    if (!(reply instanceof RcOf)) {
      collected.clear();
    }
    answerAfterFlushes(
        m.vcpu(),
        m.requestId(),
        m.ea(),
        ClearRc.class,
        reply,
        m.replyTo(),
        why -> new Failed(m.requestId(), why));
    return this;
  }

  private Behavior<Command> onSetVcpuState(SetVcpuState m) {
    String bad = check(() -> port.checkVcpu(m.vcpu()));
    if (bad == null && (m.changes() == null || m.changes().isEmpty())) {
      bad = "changes: empty; allowed: 1 or more changes";
    }
    if (bad == null) {
      for (int i = 0; i < m.changes().size() && bad == null; i++) {
        VcpuStateChange c = m.changes().get(i);
        bad = c == null ? "changes[" + i + "]: null" : check(() -> c.check(port, m.vcpu()));
        if (bad != null && c != null) {
          bad = "changes[" + i + "] " + bad;
        }
      }
    }
    if (bad != null) {
      m.replyTo().tell(new Rejected(m.requestId(), bad));
      return this;
    }
    StateReply reply =
        callCore(
            m.vcpu(),
            m.requestId(),
            0,
            "set vCPU state",
            () -> {
              for (VcpuStateChange c : m.changes()) {
                c.apply(port, m.vcpu());
              }
              return new VcpuStateSet(m.requestId(), port.mode(m.vcpu()));
            });
    m.replyTo().tell(reply);
    return this;
  }

  private static String noHpte(int vcpu, long ea) {
    return "ea: no HPTE translates 0x"
        + Long.toHexString(ea)
        + " for vCPU "
        + vcpu
        + "; allowed: an address with a valid HPTE";
  }

  private Behavior<Command> onDumpHtab(DumpHtab m) {
    it.unimi.dsi.fastutil.longs.LongArrayList addrs =
        new it.unimi.dsi.fastutil.longs.LongArrayList();
    it.unimi.dsi.fastutil.longs.LongArrayList words =
        new it.unimi.dsi.fastutil.longs.LongArrayList();
    port.htab()
        .forEachNonZeroWord(
            (a, w) -> {
              addrs.add(a);
              words.add(w);
            });
    m.replyTo().tell(new HtabDumped(m.requestId(), addrs.toLongArray(), words.toLongArray()));
    return this;
  }

  private Behavior<Command> onGetKernelEvents(GetKernelEvents m) {
    m.replyTo()
        .tell(
            new KernelEvents(
                eventCounts[GuestKernel.Event.DEMAND_MAP.ordinal()],
                eventCounts[GuestKernel.Event.EVICTION.ordinal()],
                eventCounts[GuestKernel.Event.SLB_LOAD.ordinal()],
                eventCounts[GuestKernel.Event.PROT_UPGRADE.ordinal()],
                eventCounts[GuestKernel.Event.MISREPORTED_NOT_FOUND.ordinal()]));
    return this;
  }

  private Behavior<Command> onTlbieDone(TlbieDone m) {
    PendingOp op = opByTlbie.remove(m.requestId());
    if (op == null) {
      getContext().getLog().debug("TlbieDone {} is late or unknown; ignored", m.requestId());
      return this;
    }
    op.unacked.remove(m.requestId());
    if (op.unacked.isEmpty()) {
      timers.cancel(op.id);
      ops.remove(op.id);
      complete(op, op.request.reply);
    }
    return this;
  }

  private Behavior<Command> onTlbieTimedOut(TlbieTimedOut m) {
    PendingOp op = ops.remove(m.opId());
    if (op == null) {
      return this;
    }
    for (Long tlbie : op.unacked.keySet()) {
      opByTlbie.remove(tlbie);
    }
    owed.addAll(op.unacked.values());
    Remembered r = op.request;
    String why =
        "host tlbie: "
            + op.unacked.size()
            + " of "
            + op.total
            + " flushes unacknowledged after "
            + tlbieTimeout.toMillis()
            + " ms; the guest HTAB change is made, retry request "
            + r.requestId
            + " to send them again";
    getContext()
        .getLog()
        .warn(
            "vCPU {} at ea 0x{}: {} {}: {}",
            r.vcpu,
            Long.toHexString(r.ea),
            r.kind.getSimpleName(),
            r.requestId,
            why);
    complete(op, r.onTimeout.apply(why));
    return this;
  }

  // ---- Helpers --------------------------------------------------------------------------------

  private void onKernelEvent(GuestKernel.Event e) {
    eventCounts[e.ordinal()]++;
    if (e == GuestKernel.Event.SLB_LOAD) {
      segmentLoaded = true;
    }
  }

  private String checkVcpuEa(int vcpu, long ea) {
    return check(() -> port.checkVcpu(vcpu), () -> port.checkEa(ea));
  }

  /** Runs the checks in order; the first failure's message, or null when all pass. */
  private static String check(Runnable... checks) {
    try {
      for (Runnable c : checks) {
        c.run();
      }
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  /**
   * Runs a core call: a bad-input exception becomes {@link Rejected}, anything else is logged with
   * the vCPU and address and becomes {@link Failed}.
   */
  @SuppressWarnings("unchecked")
  private <R> R callCore(int vcpu, long requestId, long ea, String what, Supplier<R> core) {
    try {
      return core.get();
    } catch (IllegalArgumentException e) {
      return (R) new Rejected(requestId, e.getMessage());
    } catch (RuntimeException e) {
      getContext()
          .getLog()
          .error("vCPU {} at ea 0x{}: {} failed", vcpu, Long.toHexString(ea), what, e);
      return (R) new Failed(requestId, what + " failed at ea 0x" + Long.toHexString(ea) + ": " + e);
    }
  }

  /**
   * True when ({@code kind}, {@code requestId}) is the vCPU's remembered request: the remembered
   * reply goes to {@code replyTo}, after the flushes still in flight or owed.
   */
  private boolean replayed(int vcpu, long requestId, Class<?> kind, ActorRef<?> replyTo) {
    Remembered r = last[vcpu];
    if (r == null || r.requestId != requestId || r.kind != kind) {
      return false;
    }
    if (r.pending != null) {
      r.pending.waiters.add(upcast(replyTo));
    } else if (r.onTimeout != null) {
      sendFlushesThenReply(r, List.of(), replyTo);
    } else {
      upcast(replyTo).tell(r.reply);
    }
    return true;
  }

  /** Replies at once to a request that never flushes; remembers it unless rejected. */
  private <R> void answer(
      int vcpu, long requestId, long ea, Class<?> kind, R reply, ActorRef<R> replyTo) {
    if (!(reply instanceof Rejected)) {
      last[vcpu] = new Remembered(kind, requestId, vcpu, ea, reply, null);
    }
    replyTo.tell(reply);
  }

  /**
   * Replies once the host confirmed every flush collected while the core ran (and any owed ones);
   * remembers the request unless rejected.
   */
  private <R> void answerAfterFlushes(
      int vcpu,
      long requestId,
      long ea,
      Class<?> kind,
      R reply,
      ActorRef<R> replyTo,
      Function<String, R> onTimeout) {
    List<HostFlush> flushes = new ArrayList<>(collected);
    collected.clear();
    Remembered r = new Remembered(kind, requestId, vcpu, ea, reply, onTimeout::apply);
    if (!(reply instanceof Rejected)) {
      last[vcpu] = r;
    }
    sendFlushesThenReply(r, flushes, replyTo);
  }

  private void sendFlushesThenReply(Remembered r, List<HostFlush> flushes, ActorRef<?> replyTo) {
    List<HostFlush> all = new ArrayList<>(owed);
    all.addAll(flushes);
    owed.clear();
    if (all.isEmpty()) {
      upcast(replyTo).tell(r.reply);
      return;
    }
    PendingOp op = new PendingOp(nextOpId++, r);
    op.waiters.add(upcast(replyTo));
    op.total = all.size();
    r.pending = op;
    ops.put(op.id, op);
    // The timer starts before the first HostTlbie leaves, so a test that saw one can advance time.
    timers.startSingleTimer(op.id, new TlbieTimedOut(op.id), tlbieTimeout);
    for (HostFlush f : all) {
      long id = nextTlbieId++;
      op.unacked.put(id, f);
      opByTlbie.put(id, op);
      host.tell(new HostTlbie(id, f, self));
    }
  }

  private static void complete(PendingOp op, Object reply) {
    if (op.request.pending == op) {
      op.request.pending = null;
    }
    for (ActorRef<Object> w : op.waiters) {
      w.tell(reply);
    }
  }

  @SuppressWarnings("unchecked")
  private static ActorRef<Object> upcast(ActorRef<?> ref) {
    return (ActorRef<Object>) ref;
  }
}
