package org.mmumesh.guestmmu.actor;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Objects;
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
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.mmumesh.guestmmu.GuestKernel;
import org.mmumesh.guestmmu.GuestMmuPort;
import org.mmumesh.guestmmu.GuestSetup;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.shell.Attempt;
import org.mmumesh.shell.EntityIds;
import org.mmumesh.shell.ShardedEntities;

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
 * <p><b>Replies</b> are typed per request kind ({@link GuestMmuProtocol}): the success record,
 * {@link Rejected} for bad input (nothing changed) and, where a core runs, {@link Failed}.
 *
 * <p><b>Guest tlbie and idempotency</b> ({@link TlbieSync}, spec 5.6 "Users"): every flush the
 * kernel asks for while handling a request goes to the VM's host MMU as a {@link HostTlbie}, and
 * the reply goes out only when every {@link TlbieDone} arrived ({@code tlbie; tlbsync}); the guest
 * HTAB change itself is made at once. At the tlbie timeout ({@value #TLBIE_TIMEOUT_CONFIG}, default
 * {@link #DEFAULT_TLBIE_TIMEOUT}) the request fails and the flushes are owed to the next one. The
 * last state-changing request of each vCPU is remembered, so a retry gets the same reply without
 * being applied again; read-only requests are recomputed.
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
 *
 * <p><b>Checkpoints</b> (issue 13, {@link GuestMmuCheckpointProtocol}): at a lockstep barrier (no
 * guest tlbie awaiting the host) {@link CheckpointState} answers the entity's whole state as bytes
 * ({@link GuestMmuEntityCheckpoint}) and {@link RestoreState} replaces it, all or nothing.
 */
public final class GuestMmu extends AbstractBehavior<GuestMmuProtocol.Command>
    implements GuestMmuProtocol, GuestHtabProtocol, GuestMmuCheckpointProtocol {

  /** The sharded entity type; entity ids are {@code vm-<v>}. */
  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "GuestMmu");

  /** The configuration path of the host tlbie timeout (a duration). */
  public static final String TLBIE_TIMEOUT_CONFIG = "mmumesh.guest-mmu.tlbie-timeout";

  /** The host tlbie timeout when the configuration does not set one. */
  public static final Duration DEFAULT_TLBIE_TIMEOUT = Duration.ofSeconds(5);

  /** The tlbie timeout of operation {@code opId} expired (a timer message, local only). */
  record TlbieTimedOut(long opId) implements Command {}

  // ---- State ----------------------------------------------------------------------------------

  private final GuestSetup setup;
  private GuestMmuPort port;
  private GuestKernel kernel;
  private final TlbieSync tlbies;
  private long[] eventCounts = new long[GuestKernel.Event.values().length];
  private boolean segmentLoaded;

  private GuestMmu(
      ActorContext<Command> context,
      GuestSetup setup,
      GuestMmuPort port,
      ActorRef<HostTlbie> host,
      TimerScheduler<Command> timers,
      Duration tlbieTimeout) {
    super(context);
    context.setLoggerName(GuestMmu.class);
    this.setup = setup;
    this.port = port;
    this.tlbies =
        new TlbieSync(
            host, context.getSelf().narrow(), timers, tlbieTimeout, context.getLog(), port.vcpus());
    this.kernel = setup.newKernel(port, this::onKernelEvent, tlbies::collect);
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
    return EntityIds.vm(vm);
  }

  /**
   * The VM number of entity id {@code vm-<v>} ({@link EntityIds#vmOf}).
   *
   * @throws IllegalArgumentException naming {@code entityId} and the allowed form
   */
  public static int vmOf(String entityId) {
    return EntityIds.vmOf(entityId);
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
    return initSharding(system, setupOf, hostOf, role, null);
  }

  /**
   * As {@link #initSharding(ActorSystem, IntFunction, IntFunction, String)}, shards placed by
   * {@code allocation} (null: Pekko's default, which rebalances and so restarts entities empty).
   */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(
      ActorSystem<?> system,
      IntFunction<GuestSetup> setupOf,
      IntFunction<ActorRef<HostTlbie>> hostOf,
      String role,
      org.apache.pekko.cluster.sharding.ShardCoordinator.ShardAllocationStrategy allocation) {
    return ShardedEntities.initWithoutPassivation(
        system, ENTITY_KEY, id -> forEntity(id, setupOf, hostOf), role, allocation);
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
    } else if (cmd instanceof CheckpointState m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof RestoreState m) {
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
        .onMessage(CheckpointState.class, this::onCheckpointState)
        .onMessage(RestoreState.class, this::onRestoreState)
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
    if (tlbies.replayed(m.vcpu(), m.requestId(), Xlate.class, m.replyTo())) {
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
    tlbies.answer(m.vcpu(), m.requestId(), m.ea(), Xlate.class, reply, m.replyTo());
    return this;
  }

  private Behavior<Command> onHandleException(HandleException m) {
    String bad = checkVcpuEa(m.vcpu(), m.ea());
    if (bad != null) {
      m.replyTo().tell(new Rejected(m.requestId(), bad));
      return this;
    }
    if (tlbies.replayed(m.vcpu(), m.requestId(), HandleException.class, m.replyTo())) {
      return this;
    }
    segmentLoaded = false;
    tlbies.clearCollected();
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
    tlbies.answerAfterFlushes(
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
    if (tlbies.replayed(m.vcpu(), m.requestId(), EnterHpte.class, m.replyTo())) {
      return this;
    }
    EnterReply reply =
        callCore(
            m.vcpu(),
            m.requestId(),
            m.ea(),
            "H_ENTER",
            () -> new HpteEntered(m.requestId(), kernel.enter(m.vcpu(), m.ea(), m.gfn(), m.pp())));
    tlbies.answer(m.vcpu(), m.requestId(), m.ea(), EnterHpte.class, reply, m.replyTo());
    return this;
  }

  private Behavior<Command> onRemoveHpte(RemoveHpte m) {
    String bad = checkVcpuEa(m.vcpu(), m.ea());
    if (bad != null) {
      m.replyTo().tell(new Rejected(m.requestId(), bad));
      return this;
    }
    if (tlbies.replayed(m.vcpu(), m.requestId(), RemoveHpte.class, m.replyTo())) {
      return this;
    }
    tlbies.clearCollected();
    RemoveReply reply =
        callCore(
            m.vcpu(),
            m.requestId(),
            m.ea(),
            "H_REMOVE",
            () -> new HpteRemoved(m.requestId(), kernel.remove(m.vcpu(), m.ea())));
    tlbies.answerAfterFlushes(
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
    if (tlbies.replayed(m.vcpu(), m.requestId(), ClearRc.class, m.replyTo())) {
      return this;
    }
    tlbies.clearCollected();
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
              tlbies.collect(port.tlbieFor(m.vcpu(), m.ea()));
              return new RcOf(m.requestId(), before[0], before[1]);
            });
    if (!(reply instanceof RcOf)) {
      tlbies.clearCollected();
    }
    tlbies.answerAfterFlushes(
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

  private Behavior<Command> onCheckpointState(CheckpointState m) {
    String busy = tlbies.notAtBarrier();
    m.replyTo()
        .tell(
            busy != null
                ? new Rejected(m.requestId(), "not at a barrier: " + busy)
                : new StateCheckpoint(
                    m.requestId(), GuestMmuEntityCheckpoint.write(port, kernel, eventCounts)));
    return this;
  }

  private Behavior<Command> onRestoreState(RestoreState m) {
    String busy = tlbies.notAtBarrier();
    if (busy != null) {
      m.replyTo().tell(new Rejected(m.requestId(), "not at a barrier: " + busy));
      return this;
    }
    GuestMmuEntityCheckpoint.Restored r;
    try {
      r =
          GuestMmuEntityCheckpoint.read(
              m.state().bytes(), setup, this::onKernelEvent, tlbies::collect);
    } catch (IllegalArgumentException e) {
      m.replyTo().tell(new Rejected(m.requestId(), e.getMessage()));
      return this;
    }
    port = r.port();
    kernel = r.kernel();
    eventCounts = r.eventCounts();
    tlbies.forgetRemembered();
    m.replyTo().tell(new StateRestored(m.requestId()));
    return this;
  }

  private Behavior<Command> onTlbieDone(TlbieDone m) {
    tlbies.onTlbieDone(m);
    return this;
  }

  private Behavior<Command> onTlbieTimedOut(TlbieTimedOut m) {
    tlbies.onTimedOut(m.opId());
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
   * Runs a core call under the shell kit's rule ({@link Attempt}): bad input the core found becomes
   * {@link Rejected}, anything else is logged with the vCPU and address and becomes {@link Failed}.
   * Every reply family holds both, so the casts are safe.
   */
  @SuppressWarnings("unchecked")
  private <R> R callCore(int vcpu, long requestId, long ea, String what, Supplier<R> core) {
    return Attempt.of(core)
        .fold(
            r -> r,
            reason -> (R) new Rejected(requestId, reason),
            e -> {
              getContext()
                  .getLog()
                  .error("vCPU {} at ea 0x{}: {} failed", vcpu, Long.toHexString(ea), what, e);
              return (R)
                  new Failed(
                      requestId, what + " failed at ea 0x" + Long.toHexString(ea) + ": " + e);
            });
  }
}
