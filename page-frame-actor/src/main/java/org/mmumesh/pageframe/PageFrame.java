package org.mmumesh.pageframe;

import com.typesafe.config.Config;
import it.unimi.dsi.fastutil.longs.Long2ObjectLinkedOpenHashMap;
import it.unimi.dsi.fastutil.longs.Long2ObjectOpenHashMap;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
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
import org.mmumesh.common.Checks;
import org.mmumesh.common.Fingerprint;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MeshEventBus;

/**
 * The page frames of one simulated host as an actor (architecture sections 2 and 4; spec 5.1, 5.7,
 * 7.4, 8.8 TV61): a thin shell around {@link PageFrames}, which owns the frames, every VM's host
 * address space and memslots, {@code gfn_to_pfn_prot}, copy-on-write and the KSM page operations.
 * Every decision about frames is the core's; this class routes messages, hands out and times out
 * memslot read leases, forwards MMU-notifier invalidations and waits for their acknowledgements,
 * holds memslot replies back until their update completed, and remembers replies for retries.
 *
 * <h2>State</h2>
 *
 * <ul>
 *   <li>the {@link PageFrames} core: guest memory itself (frames and their contents);
 *   <li>the leases handed out ({@code lease id -> vm, core token, vCPU, expiry tick}), in grant
 *       order, which is also their expiry order;
 *   <li>the notifier subscribers per VM (watched), and the notifier round in flight;
 *   <li>memslot updates whose reply waits for their ticket;
 *   <li>the last {@link GfnToPfnProt} reply per (vm, vCPU) and the last {@link
 *       Settings#rememberedRequests()} replies to other requests, for idempotent retries.
 * </ul>
 *
 * <h2>Leases (spec 8.8 TV61)</h2>
 *
 * Every {@link GfnToPfnProt} that is answered {@link PfnAnswered} (whatever its status, NOSLOT
 * included) took a memslot read lease ({@code srcu_read_lock}) before the lookup; the caller MUST
 * send {@link ReleaseLease} with the answer's {@code lease} once it has mapped the page (or given
 * up). {@link Rejected} and {@link Failed} answers hold no lease. A memslot removal or move is
 * published at once (later lookups see the new array) but its {@link SlotUpdateCompleted} is sent
 * only when every lease taken on an older generation was released ({@code synchronize_srcu}). A
 * lease not released within {@link Settings#leaseTimeout()} is released by the actor, logged
 * (warning, with the vm and vCPU) and counted ({@code LEASES_EXPIRED}), so a crashed vCPU cannot
 * hold a memslot update back for ever. Releasing an unknown or already released lease is harmless
 * (counted {@code LEASE_RELEASES_UNKNOWN}). Lease ids are this actor's own (the core's token is a
 * generation shared by many leases) and never repeat within an incarnation.
 *
 * <p><b>The page reference.</b> A lease also holds the answer's page reference ({@link
 * FaultPageRefs}, KVM's reference from {@code gfn_to_pfn_prot}): while it is held ksmd's {@code
 * write_protect_page} fails on the frame (mm/ksm.c's page-count check) and the merge is retried on
 * a later pass. Releasing or expiring the lease drops the reference.
 *
 * <p><b>Lease expiry by one tick.</b> No timer is started per lease (a cancelled timer task stays
 * in the scheduler's wheel until its deadline: one per fault made the garbage collector a fifth of
 * the mesh's fault time). One periodic tick ({@link Settings#leaseTick()}, default a tenth of the
 * lease timeout) runs while a lease is held and stops at the first tick that finds none. A lease's
 * expiry is a tick number: granted while the tick is stopped (the tick starts now, its phase is
 * known) it expires at the first tick at or after {@code leaseTimeout}; granted while the tick runs
 * (phase unknown) one tick later, so a lease is expired after at least {@code leaseTimeout} and at
 * most {@code leaseTimeout + leaseTick}. Leases are kept in grant order, which is their expiry
 * order: each tick expires a prefix.
 *
 * <h2>MMU notifiers (spec 5.7)</h2>
 *
 * Every invalidation the core emits while serving a request (COW break in {@link GfnToPfnProt} or
 * {@link Populate}, memslot removal, a KSM batch's write-protect, replace or break) is sent as a
 * {@link NotifierEvent} to every subscriber of the VM, and the request's reply is sent only when
 * every event was acknowledged with a {@link NotifierAck} of its (vm, sequence): in the kernel the
 * notifier callbacks complete before {@code gfn_to_pfn} returns. With no subscriber the reply goes
 * out at once. If acknowledgements are missing after {@link Settings#notifierAckTimeout()}, the
 * reply is sent anyway, with a warning and the counters {@code NOTIFIER_ACK_TIMEOUTS} and {@code
 * NOTIFIER_ACKS_MISSING}. One round is in flight at a time: commands that may change state or take
 * leases arriving meanwhile are stashed (bounded by {@link Settings#stashCapacity()}; when full,
 * they are answered {@link Rejected} with a reason starting {@code "stash: full"}) and processed in
 * arrival order afterwards. {@link ReleaseLease}, {@link NotifierAck}, {@link GetStats}, {@link
 * CheckInvariants}, {@link ApplyStores}, {@link ReadFrames}, {@link ReadWord} and {@link
 * GetKsmCounters} are handled at once. Acknowledgements are counted, not attributed to a
 * subscriber: a subscriber must acknowledge each event exactly once; one that stops is dropped from
 * the subscribers, and a round still waiting for it ends at the timeout.
 *
 * <h2>KSM scanning (spec section 7; architecture section 4, with a deliberate deviation)</h2>
 *
 * A PageFrame created with a {@link FrameScanner} factory runs ksmd's scan work on its own core:
 * the stable and unstable trees and the rmap items live here, beside the frames they read
 * synchronously, while the {@code Ksm} entity of the host keeps ksmd's schedule and controls and
 * drives it with {@link KsmScan}, {@link KsmSetRun}, {@link KsmMadvise}, {@link KsmFullScans} and
 * {@link GetKsmCounters} (see {@link FrameScanner} for why this departs from architecture.md's
 * ownership table). The merge handshake ("write-protect first, remap after the host MMUs confirm
 * that no writable mapping remains"): with a scanner the core tracks invalidations of VMs that have
 * subscribers ({@link PageFrames#trackInvalidations}); a batch whose merge write-protected a
 * writable page stops early, its events go out as a notifier round, and {@link KsmScanned} (with
 * {@code handshakePending}) is sent when the round is acknowledged, after {@link
 * PageFrames#completeInvalidations()}; the next batch re-processes the page and merges it only if
 * its content is still the same. {@link KsmFullScans} goes through such rounds by itself before it
 * answers. If a round ends by its ack timeout the handshake is treated as complete (as every other
 * reply is sent at the timeout), with the warning and counters described above. Without a scanner
 * those commands are answered {@link Rejected} with {@link #NO_SCANNER}.
 *
 * <h2>Idempotency</h2>
 *
 * {@link GfnToPfnProt}: the last reply per (vm, vCPU); the same requestId again is answered with
 * the remembered reply (same pfn, same lease id) without taking a second lease or breaking COW a
 * second time. The management and KSM commands ({@link CreateVm}, {@link AddSlot}, {@link
 * RemoveSlot}, {@link Populate}, {@link KsmScan}, {@link KsmSetRun}, {@link KsmMadvise}, {@link
 * KsmFullScans}) remember their reply by (kind, vm, requestId), the last {@link
 * Settings#rememberedRequests()} of them; a retry of a memslot update whose reply still waits for
 * leases is answered when it completes. {@link Rejected} is not remembered (nothing changed).
 *
 * <h2>Bad input and failures</h2>
 *
 * The core throws {@link IllegalArgumentException} before changing anything; its message (naming
 * the field, e.g. {@code "vm: 7 does not exist"}, or the overlapped memslot and its range) becomes
 * a {@link Rejected}. Any other exception is logged with the vm, vCPU and gfn, answered with {@link
 * Failed}, and the actor keeps its state (supervised with <em>resume</em>: a restart would wipe
 * guest memory); notifier events the core had emitted are still delivered.
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
 * The core's COW breaks and KSM merges ({@link FrameEventListener}) are published as {@code
 * MeshEvent}s (COW_BREAK, MERGE) on the node's {@link org.mmumesh.common.MeshEventBus}, with this
 * host's id (from the entity id; {@code NONE} for an actor created without one) and, for a COW
 * break in {@link GfnToPfnProt}, the requesting vCPU. Nothing is built while nobody watches.
 */
public final class PageFrame extends AbstractBehavior<PageFrame.Command> {

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

  // ---- protocol: commands ---------------------------------------------------------------------

  /** Every message the PageFrame accepts. */
  public sealed interface Command extends CborSerializable {}

  /** Creates VM {@code vm} (0 to {@link PageFrames#MAX_VM}) with no memslots. */
  public record CreateVm(long requestId, int vm, ActorRef<VmReply> replyTo) implements Command {}

  /**
   * KVM_SET_USER_MEMORY_REGION, create: guest frames {@code [baseGfn, baseGfn + npages)} onto host
   * pages {@code [hvaPage, ...)}. Visible at once; answered {@link SlotAdded} at once.
   */
  public record AddSlot(
      long requestId,
      int vm,
      int slotId,
      long baseGfn,
      long npages,
      long hvaPage,
      boolean readOnly,
      ActorRef<SlotReply> replyTo)
      implements Command {}

  /**
   * Removes memslot {@code slotId}; answered {@link SlotUpdateCompleted} after the slot's range was
   * invalidated (acknowledged) and every older lease released.
   */
  public record RemoveSlot(long requestId, int vm, int slotId, ActorRef<SlotReply> replyTo)
      implements Command {}

  /** Boot-image load: gives {@code gfn} a private frame holding {@code fingerprint}. */
  public record Populate(
      long requestId, int vm, long gfn, long fingerprint, ActorRef<PopulateReply> replyTo)
      implements Command {}

  /**
   * {@code gfn_to_pfn_prot} (spec 5.1) under a memslot read lease; see the class comment.
   *
   * @param vcpu the asking vCPU, 0 to {@link #MAX_VCPU} (the retry memory is per vm and vCPU)
   */
  public record GfnToPfnProt(
      long requestId, int vm, int vcpu, long gfn, boolean writeFault, ActorRef<PfnReply> replyTo)
      implements Command {}

  /** {@code srcu_read_unlock}: releases the lease of a {@link PfnAnswered}. No reply. */
  public record ReleaseLease(int vm, long lease) implements Command {}

  /**
   * Subscribes {@code subscriber} to VM {@code vm}'s MMU-notifier events (the VM need not exist
   * yet). Subscribing the same ref twice is one subscription. No reply.
   */
  public record SubscribeNotifier(int vm, ActorRef<NotifierEvent> subscriber) implements Command {}

  /** A subscriber applied the {@link NotifierEvent} of {@code (vm, notifierSeq)}. */
  public record NotifierAck(int vm, long notifierSeq) implements Command {}

  /**
   * The stores a vCPU made through writable host mappings, in program order: {@code
   * PageFrames.storeFrame(pfns[i], offsets[i], values[i])} for each i. Answered {@link StoresDone};
   * a store the core refuses as an isolation violation (the frame is free or shared) is counted in
   * {@code refused} and logged, the others are applied. Processed at once, also while a notifier
   * round is in flight (never stashed: the vCPU acknowledges a TLB shootdown only after its stores
   * were applied, and the round may be waiting on that ack). The last reply per (vm, vCPU) is
   * remembered: the same requestId again is answered from memory, not applied twice.
   *
   * @param vcpu the storing vCPU, 0 to {@link #MAX_VCPU}
   */
  public record ApplyStores(
      long requestId,
      int vm,
      int vcpu,
      int[] pfns,
      int[] offsets,
      long[] values,
      ActorRef<StoresReply> replyTo)
      implements Command {

    @Override
    public boolean equals(Object o) {
      return o instanceof ApplyStores b
          && b.requestId == requestId
          && b.vm == vm
          && b.vcpu == vcpu
          && Arrays.equals(b.pfns, pfns)
          && Arrays.equals(b.offsets, offsets)
          && Arrays.equals(b.values, values)
          && Objects.equals(b.replyTo, replyTo);
    }

    @Override
    public int hashCode() {
      return Objects.hash(
          requestId,
          vm,
          vcpu,
          Arrays.hashCode(pfns),
          Arrays.hashCode(offsets),
          Arrays.hashCode(values),
          replyTo);
    }

    @Override
    public String toString() {
      return "ApplyStores[requestId="
          + requestId
          + ", vm="
          + vm
          + ", vcpu="
          + vcpu
          + ", pfns="
          + Arrays.toString(pfns)
          + ", offsets="
          + Arrays.toString(offsets)
          + ", values="
          + Arrays.toString(values)
          + ", replyTo="
          + replyTo
          + "]";
    }
  }

  /**
   * Read-only: the content fingerprints of guest frames {@code [gfnStart, gfnStart + count)} of VM
   * {@code vm}, each the fingerprint of the frame its host PTE maps, or {@link
   * org.mmumesh.common.Fingerprint#ZERO} (the zero page's content) when no frame is mapped or no
   * memslot covers the gfn. Changes nothing, takes no lease, handled at once. {@code count} 0 to
   * {@link #MAX_READ_FRAMES}: a larger range (a VM of more pages) is read in consecutive chunks
   * (chunks of {@link #READ_FRAMES_CHUNK} when the reply may cross nodes).
   */
  public record ReadFrames(
      long requestId, int vm, long gfnStart, int count, ActorRef<FramesReply> replyTo)
      implements Command {}

  /**
   * Read-only: the word a load at byte {@code offset} (0 to 4095) of host frame {@code pfn} returns
   * ({@link org.mmumesh.common.Fingerprint#loadWord}), for a vCPU's traced access. {@code vm} must
   * exist and {@code pfn} be a live frame. Changes nothing, handled at once, answered {@link
   * WordRead} or {@link Rejected}.
   */
  public record ReadWord(long requestId, int vm, int pfn, int offset, ActorRef<FramesReply> replyTo)
      implements Command {}

  /**
   * KSM: one ksmd batch of up to {@code pages} pages (0 to {@link #UINT_MAX}) on this host's {@link
   * FrameScanner}. Answered {@link KsmScanned} only after every notifier round the batch started
   * was acknowledged: when {@code handshakePending} is true the merge handshake is then complete
   * and the scan may continue at once with the remaining budget. Idempotent: the same requestId
   * again is answered from memory without scanning again.
   */
  public record KsmScan(long requestId, long pages, ActorRef<KsmScannerReply> replyTo)
      implements Command {}

  /**
   * KSM: sets {@code run} (0 stop, 1 merge, 2 stop and unmerge every KSM page: the COW breaks go
   * through notifier rounds). Answered {@link KsmControlDone} after the acks. Idempotent.
   */
  public record KsmSetRun(long requestId, int run, ActorRef<KsmScannerReply> replyTo)
      implements Command {}

  /**
   * KSM: {@code madvise(MADV_MERGEABLE / MADV_UNMERGEABLE)} of host pages {@code [hvaPage, hvaPage
   * + pages)} of VM {@code vm}. Answered {@link KsmControlDone} (after the acks of the COW breaks
   * of an unmerge). Idempotent.
   */
  public record KsmMadvise(
      long requestId,
      int vm,
      long hvaPage,
      long pages,
      boolean mergeable,
      ActorRef<KsmScannerReply> replyTo)
      implements Command {}

  /**
   * KSM lockstep stepping: runs {@code passes} (0 to {@link Integer#MAX_VALUE}) whole passes,
   * completing merge handshakes as they come (the actor waits for the acks, then goes on; other
   * commands wait in the stash meanwhile), then answers {@link KsmFullScansDone}. Needs {@code run}
   * 1. Idempotent.
   */
  public record KsmFullScans(long requestId, int passes, ActorRef<KsmScannerReply> replyTo)
      implements Command {}

  /** KSM: the scanner's counters and counter violations. Read-only, handled at once. */
  public record GetKsmCounters(long requestId, ActorRef<KsmScannerReply> replyTo)
      implements Command {}

  /** The core's counters, this shell's counters and the leases held per VM. */
  public record GetStats(ActorRef<StatsReply> replyTo) implements Command {}

  /**
   * Runs {@link PageFrames#invariantViolations()}; with {@code incremental}, {@link
   * PageFrames#invariantViolationsIncremental()} and the KSM scanner's {@link
   * FrameScanner#counterViolationsIncremental()} (prefixed {@code ksm:}), each for what changed
   * since the previous incremental check. (The full KSM recount answers {@link GetKsmCounters}.)
   */
  public record CheckInvariants(boolean incremental, ActorRef<InvariantsReply> replyTo)
      implements Command {
    /** The full check. */
    public CheckInvariants(ActorRef<InvariantsReply> replyTo) {
      this(false, replyTo);
    }
  }

  // ---- protocol: events -----------------------------------------------------------------------

  /**
   * An MMU-notifier invalidation (spec 5.7): the host mappings behind guest frames {@code
   * [gfnStart, gfnEnd)} of VM {@code vm} changed, and the VM's sequence is now {@code notifierSeq}.
   * The subscriber flushes what it maps there, then tells {@code replyTo} {@code NotifierAck(vm,
   * notifierSeq)}, once per event.
   */
  public record NotifierEvent(
      int vm, long gfnStart, long gfnEnd, long notifierSeq, ActorRef<NotifierAck> replyTo)
      implements CborSerializable {}

  // ---- protocol: replies ----------------------------------------------------------------------

  /** Every reply. */
  public sealed interface Reply extends CborSerializable {}

  /** What a {@link CreateVm} requester receives. */
  public sealed interface VmReply extends Reply {}

  /** What an {@link AddSlot} or {@link RemoveSlot} requester receives. */
  public sealed interface SlotReply extends Reply {}

  /** What a {@link Populate} requester receives. */
  public sealed interface PopulateReply extends Reply {}

  /** What a {@link GfnToPfnProt} requester receives. */
  public sealed interface PfnReply extends Reply {}

  /** What an {@link ApplyStores} requester receives. */
  public sealed interface StoresReply extends Reply {}

  /**
   * What a KSM scanner command's requester ({@link KsmScan}, {@link KsmSetRun}, {@link KsmMadvise},
   * {@link KsmFullScans}, {@link GetKsmCounters}) receives.
   */
  public sealed interface KsmScannerReply extends Reply {}

  /** What a {@link ReadFrames} requester receives. */
  public sealed interface FramesReply extends Reply {}

  /** VM created. */
  public record VmCreated(long requestId, int vm) implements VmReply {}

  /**
   * The memslot is published (visible to lookups).
   *
   * @param ticket the core's ticket of the update
   * @param generation the VM's memslot generation after it
   */
  public record SlotAdded(long requestId, long ticket, long generation) implements SlotReply {}

  /** A removal or move completed: invalidations acknowledged, every older lease released. */
  public record SlotUpdateCompleted(long requestId, long ticket) implements SlotReply {}

  /** The page holds the fingerprint in a private frame. */
  public record Populated(long requestId) implements PopulateReply {}

  /**
   * The answer to {@link GfnToPfnProt}.
   *
   * @param result the core's result (status, pfn, writable, notifier sequence read at the start)
   * @param lease the lease to release with {@link ReleaseLease}
   */
  public record PfnAnswered(long requestId, PfnResult result, long lease) implements PfnReply {}

  /**
   * The answer to {@link ApplyStores}: {@code applied + refused} is the number of stores.
   *
   * @param refused stores the core refused (the frame was free or shared: isolation), not applied
   */
  public record StoresDone(long requestId, int applied, int refused) implements StoresReply {}

  /** The answer to {@link ReadWord}: the frame's content fingerprint and the loaded word. */
  public record WordRead(long requestId, int pfn, long fingerprint, long value)
      implements FramesReply {}

  /** The answer to {@link ReadFrames}: {@code fingerprints[i]} is gfn {@code gfnStart + i}'s. */
  public record FramesRead(long requestId, int vm, long gfnStart, long[] fingerprints)
      implements FramesReply {

    @Override
    public boolean equals(Object o) {
      return o instanceof FramesRead b
          && b.requestId == requestId
          && b.vm == vm
          && b.gfnStart == gfnStart
          && Arrays.equals(b.fingerprints, fingerprints);
    }

    @Override
    public int hashCode() {
      return Objects.hash(requestId, vm, gfnStart, Arrays.hashCode(fingerprints));
    }

    @Override
    public String toString() {
      return "FramesRead[requestId="
          + requestId
          + ", vm="
          + vm
          + ", gfnStart="
          + gfnStart
          + ", fingerprints="
          + Arrays.toString(fingerprints)
          + "]";
    }
  }

  /**
   * The answer to {@link KsmScan}, sent after the acks of every notifier event of the batch.
   *
   * @param visited pages visited
   * @param handshakePending the batch stopped early for a merge handshake, which is now complete:
   *     continue at once with the remaining budget
   */
  public record KsmScanned(long requestId, long visited, boolean handshakePending)
      implements KsmScannerReply {}

  /** A {@link KsmSetRun} or {@link KsmMadvise} took effect (and its notifier rounds were acked). */
  public record KsmControlDone(long requestId) implements KsmScannerReply {}

  /**
   * The answer to {@link KsmFullScans}.
   *
   * @param passes full passes completed
   * @param handshakes merge handshakes (notifier rounds) waited for on the way
   */
  public record KsmFullScansDone(long requestId, int passes, long handshakes)
      implements KsmScannerReply {}

  /** The answer to {@link GetKsmCounters}: {@link FrameScanner#counters()} and violations. */
  public record KsmCounters(long requestId, Map<String, Long> counters, List<String> violations)
      implements KsmScannerReply {}

  /**
   * Bad input; nothing changed, no lease held. {@code reason} names the field and the allowed range
   * (the core's message).
   */
  public record Rejected(long requestId, String reason)
      implements VmReply,
          SlotReply,
          PopulateReply,
          PfnReply,
          StoresReply,
          FramesReply,
          KsmScannerReply {}

  /** The core failed unexpectedly (logged); no lease held; the state is kept. */
  public record Failed(long requestId, String cause)
      implements VmReply, SlotReply, PopulateReply, PfnReply, KsmScannerReply {}

  /**
   * @param counters the core's counters, then this shell's (non-zero ones)
   * @param leasesHeld leases currently held per VM (core count)
   */
  public record StatsReply(Map<String, Long> counters, Map<Integer, Integer> leasesHeld)
      implements CborSerializable {}

  /** The core's invariant violations (empty when consistent). */
  public record InvariantsReply(List<String> violations) implements CborSerializable {
    /** True when there is no violation. */
    public boolean ok() {
      return violations.isEmpty();
    }
  }

  // ---- internal messages (local only) ---------------------------------------------------------

  private record AckTimedOut(long roundId) implements Command, NoSerializationVerificationNeeded {}

  /** The lease tick (one periodic timer while leases are held). */
  private record LeaseTick() implements Command, NoSerializationVerificationNeeded {}

  private static final LeaseTick LEASE_TICK = new LeaseTick();

  // ---- settings and factories -----------------------------------------------------------------

  /**
   * @param leaseTimeout a lease not released by then is released by the actor (default 10 s)
   * @param notifierAckTimeout how long a reply waits for notifier acks (default 2 s)
   * @param stashCapacity commands held while a notifier round is in flight (default 4096)
   * @param rememberedRequests management/KSM replies remembered for retries (default 1024)
   * @param initialFrames the core's initial frame capacity (default 1024; it grows)
   * @param leaseTick the period of the one lease-expiry tick, positive, at most {@code
   *     leaseTimeout} (default {@link #defaultLeaseTick a tenth of leaseTimeout}); a lease expires
   *     between {@code leaseTimeout} and {@code leaseTimeout + leaseTick} after its grant
   */
  public record Settings(
      Duration leaseTimeout,
      Duration notifierAckTimeout,
      int stashCapacity,
      int rememberedRequests,
      int initialFrames,
      Duration leaseTick) {
    /** Validates every field; messages name the field and the allowed range. */
    public Settings {
      positive("leaseTimeout", leaseTimeout);
      positive("notifierAckTimeout", notifierAckTimeout);
      Checks.inRange("stashCapacity", stashCapacity, 1, 1 << 20);
      Checks.inRange("rememberedRequests", rememberedRequests, 1, 1 << 20);
      Checks.inRange("initialFrames", initialFrames, 1, Integer.MAX_VALUE - 1);
      Objects.requireNonNull(leaseTick, "leaseTick");
      if (leaseTick.isNegative() || leaseTick.isZero() || leaseTick.compareTo(leaseTimeout) > 0) {
        throw new IllegalArgumentException(
            "leaseTick: "
                + leaseTick
                + " is out of range; allowed > 0 and at most leaseTimeout ("
                + leaseTimeout
                + ")");
      }
    }

    /** Settings with the {@link #defaultLeaseTick default lease tick}. */
    public Settings(
        Duration leaseTimeout,
        Duration notifierAckTimeout,
        int stashCapacity,
        int rememberedRequests,
        int initialFrames) {
      this(
          leaseTimeout,
          notifierAckTimeout,
          stashCapacity,
          rememberedRequests,
          initialFrames,
          defaultLeaseTick(leaseTimeout));
    }

    /** A tenth of {@code leaseTimeout}, at least 1 ms and at most {@code leaseTimeout}. */
    public static Duration defaultLeaseTick(Duration leaseTimeout) {
      positive("leaseTimeout", leaseTimeout);
      Duration t = leaseTimeout.dividedBy(10);
      if (t.compareTo(Duration.ofMillis(1)) < 0) {
        t = Duration.ofMillis(1);
      }
      return t.compareTo(leaseTimeout) > 0 ? leaseTimeout : t;
    }

    private static void positive(String field, Duration d) {
      Objects.requireNonNull(d, field);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(field + ": " + d + " is out of range; allowed > 0");
      }
    }

    /** 10 s, 2 s, 4096, 1024, 1024. */
    public static Settings defaults() {
      return new Settings(Duration.ofSeconds(10), Duration.ofSeconds(2), 4096, 1024, 1024);
    }

    /**
     * Reads {@value #CONFIG_PATH}{@code .lease-timeout}, {@code .notifier-ack-timeout}, {@code
     * .stash-capacity}, {@code .remembered-requests}, {@code .initial-frames}, {@code .lease-tick};
     * each missing key keeps its default (the lease tick: a tenth of the lease timeout).
     */
    public static Settings fromConfig(Config config) {
      Settings d = defaults();
      String p = CONFIG_PATH + ".";
      Duration leaseTimeout =
          config.hasPath(p + "lease-timeout")
              ? config.getDuration(p + "lease-timeout")
              : d.leaseTimeout();
      return new Settings(
          leaseTimeout,
          config.hasPath(p + "notifier-ack-timeout")
              ? config.getDuration(p + "notifier-ack-timeout")
              : d.notifierAckTimeout(),
          config.hasPath(p + "stash-capacity")
              ? config.getInt(p + "stash-capacity")
              : d.stashCapacity(),
          config.hasPath(p + "remembered-requests")
              ? config.getInt(p + "remembered-requests")
              : d.rememberedRequests(),
          config.hasPath(p + "initial-frames")
              ? config.getInt(p + "initial-frames")
              : d.initialFrames(),
          config.hasPath(p + "lease-tick")
              ? config.getDuration(p + "lease-tick")
              : defaultLeaseTick(leaseTimeout));
    }
  }

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

  /** The entity id of host {@code host}: {@code host-<h>}. */
  public static String entityId(int host) {
    Checks.inRange("host", host, 0, Integer.MAX_VALUE);
    return "host-" + host;
  }

  /** The host of an entity id {@code host-<h>}. */
  public static int hostOf(String entityId) {
    if (entityId == null || !entityId.matches("host-[0-9]{1,10}")) {
      throw new IllegalArgumentException(
          "entityId: "
              + entityId
              + " is not allowed; allowed host-<h> with h 0 to "
              + Integer.MAX_VALUE);
    }
    long h = Long.parseLong(entityId.substring(5));
    return (int) Checks.inRange("entityId host", h, 0, Integer.MAX_VALUE);
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
    return ClusterSharding.get(system).init(entity);
  }

  /** {@link #initSharding(ActorSystem, Settings, String)} with the configured settings. */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(ActorSystem<?> system) {
    return initSharding(system, Settings.fromConfig(system.settings().config()), null);
  }

  // ---- state ----------------------------------------------------------------------------------

  /** This shell's counters, reported after the core's in {@link StatsReply}. */
  enum ShellCounter {
    /** Leases handed out. */
    LEASES_GRANTED,
    /** Leases released by their holder. */
    LEASES_RELEASED,
    /** Leases released by the actor at their timeout. */
    LEASES_EXPIRED,
    /** ReleaseLease of a lease not held (already released or expired, or foreign). */
    LEASE_RELEASES_UNKNOWN,
    /** A retried request answered from memory. */
    RETRIES_ANSWERED,
    /** A command rejected for bad input. */
    REJECTED,
    /** A command rejected because the stash was full. */
    STASH_FULL,
    /** The core threw unexpectedly. */
    CORE_FAILURES,
    /** NotifierEvent messages sent (one per subscriber per event). */
    NOTIFIER_EVENTS_SENT,
    /** Replies that waited for notifier acks. */
    NOTIFIER_ROUNDS,
    /** Rounds that ended by their timeout. */
    NOTIFIER_ACK_TIMEOUTS,
    /** Acks still owed at those timeouts. */
    NOTIFIER_ACKS_MISSING,
    /** Acks that matched no owed event (late or duplicate). */
    NOTIFIER_ACKS_IGNORED,
    /** Memslot updates whose reply had to wait for leases. */
    SLOT_UPDATES_WAITED,
    /** Stores applied by {@link ApplyStores}. */
    STORES_APPLIED,
    /** Stores refused by the core (isolation) in {@link ApplyStores}. */
    STORES_REFUSED,
    /** KSM batches run ({@link KsmScan}, not counting retries answered from memory). */
    KSM_BATCHES,
    /** KSM merge handshakes: batches or full-scan steps that stopped to wait for acks. */
    KSM_HANDSHAKES
  }

  private static final ShellCounter[] SHELL_COUNTERS = ShellCounter.values();

  /** A lease handed out; {@code expiryTick}: the lease tick at which it is released. */
  private record HeldLease(int vm, int vcpu, long token, long expiryTick) {}

  private static final Object LEASE_TICK_KEY = "lease-tick";

  private record RequestKey(String kind, int vm, long requestId) {}

  /** A memslot update whose reply waits for its ticket; retries add their replyTo. */
  private static final class SlotWaiter {
    final long requestId;
    final long ticket;
    final List<ActorRef<SlotReply>> replyTos = new ArrayList<>(1);

    SlotWaiter(long requestId, long ticket, ActorRef<SlotReply> replyTo) {
      this.requestId = requestId;
      this.ticket = ticket;
      replyTos.add(replyTo);
    }
  }

  /** One vCPU's last GfnToPfnProt. */
  private record LastPfn(long requestId, PfnReply reply) {}

  /** One vCPU's last ApplyStores. */
  private record LastStores(long requestId, StoresDone reply) {}

  private final ActorContext<Command> ctx;
  private final StashBuffer<Command> stash;
  private final TimerScheduler<Command> timers;
  private final Settings settings;
  private final ActorRef<NotifierAck> ackRef;
  private final PageFrames core;

  /** The page reference of each held lease (its answer's frame), {@link FaultPageRefs}. */
  private final FaultPageRefs pageRefs;

  /** The KSM scanner on {@link #core}, or null (KSM scanner commands rejected). */
  private final FrameScanner scanner;

  private final TreeSet<Integer> vms = new TreeSet<>();
  private final Map<Integer, List<ActorRef<NotifierEvent>>> subscribers = new TreeMap<>();
  private final List<long[]> emitted = new ArrayList<>();

  /** The leases held, in grant order (= expiry order). */
  private final Long2ObjectLinkedOpenHashMap<HeldLease> leases =
      new Long2ObjectLinkedOpenHashMap<>();

  private long nextLease = 1;

  /** Lease ticks so far; whether the lease tick runs; ticks of one lease timeout (rounded up). */
  private long leaseTicks;

  private boolean leaseTickRunning;
  private final long ticksPerLease;
  private final Long2ObjectOpenHashMap<LastPfn> lastPfn = new Long2ObjectOpenHashMap<>();
  private final Long2ObjectOpenHashMap<LastStores> lastStores = new Long2ObjectOpenHashMap<>();
  private final Map<RequestKey, Object> remembered;
  private final Long2ObjectOpenHashMap<SlotWaiter> waitingTickets = new Long2ObjectOpenHashMap<>();
  private final long[] shellCounters = new long[SHELL_COUNTERS.length];

  /** The notifier round in flight and the reply it holds back; both null when none. */
  private NotifierRound round;

  private Runnable heldReply;
  private long nextRoundId = 1;

  /** The event feed: this node's bus, this host's id, the vCPU whose request runs (or NONE). */
  private final MeshEventBus events;

  private final int hostId;
  private int eventVcpu = MeshEvent.NONE;

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
    this.stash = stash;
    this.timers = timers;
    this.settings = settings;
    this.ackRef = ctx.getSelf().narrow();
    this.core = new PageFrames(settings.initialFrames());
    this.pageRefs = new FaultPageRefs(core);
    long tick = settings.leaseTick().toNanos();
    this.ticksPerLease = (settings.leaseTimeout().toNanos() + tick - 1) / tick;
    int cap = settings.rememberedRequests();
    this.remembered =
        new LinkedHashMap<>(16, 0.75f, false) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<RequestKey, Object> e) {
            return size() > cap;
          }
        };
    core.addNotifierListener(
        (vm, g0, g1) -> emitted.add(new long[] {vm, g0, g1, core.notifierSeq(vm)}));
    core.addSlotUpdateListener((vm, ticket) -> onTicketCompleted(ticket));
    this.hostId = hostId;
    this.events = MeshEventBus.of(ctx.getSystem());
    core.setFrameEventListener(new FrameEvents());
    if (scannerFactory != null) {
      // The merge handshake: invalidations of VMs with subscribers stay pending until acked.
      core.trackInvalidations(
          vm -> {
            List<ActorRef<NotifierEvent>> subs = subscribers.get(vm);
            return subs != null && !subs.isEmpty();
          });
      this.scanner = Objects.requireNonNull(scannerFactory.apply(core), "scannerFactory result");
    } else {
      this.scanner = null;
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(CreateVm.class, this::onCreateVm)
        .onMessage(AddSlot.class, this::onAddSlot)
        .onMessage(RemoveSlot.class, this::onRemoveSlot)
        .onMessage(Populate.class, this::onPopulate)
        .onMessage(GfnToPfnProt.class, this::onGfnToPfnProt)
        .onMessage(ReleaseLease.class, this::onReleaseLease)
        .onMessage(SubscribeNotifier.class, this::onSubscribeNotifier)
        .onMessage(NotifierAck.class, this::onNotifierAck)
        .onMessage(ApplyStores.class, this::onApplyStores)
        .onMessage(ReadFrames.class, this::onReadFrames)
        .onMessage(ReadWord.class, this::onReadWord)
        .onMessage(KsmScan.class, this::onKsmScan)
        .onMessage(KsmSetRun.class, this::onKsmSetRun)
        .onMessage(KsmMadvise.class, this::onKsmMadvise)
        .onMessage(KsmFullScans.class, this::onKsmFullScans)
        .onMessage(GetKsmCounters.class, this::onGetKsmCounters)
        .onMessage(GetStats.class, this::onGetStats)
        .onMessage(CheckInvariants.class, this::onCheckInvariants)
        .onMessage(AckTimedOut.class, this::onAckTimedOut)
        .onMessage(LeaseTick.class, this::onLeaseTick)
        .onSignal(Terminated.class, this::onTerminated)
        .build();
  }

  // ---- management -----------------------------------------------------------------------------

  private Behavior<Command> onCreateVm(CreateVm m) {
    if (round != null) {
      return stashOrReject(m, m.replyTo(), m.requestId());
    }
    RequestKey key = new RequestKey("CreateVm", m.vm(), m.requestId());
    if (replayed(key, m.replyTo())) {
      return this;
    }
    try {
      core.createVm(m.vm());
    } catch (IllegalArgumentException e) {
      return reject(m.replyTo(), m.requestId(), e.getMessage());
    } catch (RuntimeException e) {
      return failed(e, "CreateVm", m.vm(), -1, -1, m.replyTo(), m.requestId());
    }
    vms.add(m.vm());
    VmCreated reply = new VmCreated(m.requestId(), m.vm());
    remembered.put(key, reply);
    m.replyTo().tell(reply);
    return this;
  }

  private Behavior<Command> onAddSlot(AddSlot m) {
    if (round != null) {
      return stashOrReject(m, m.replyTo(), m.requestId());
    }
    RequestKey key = new RequestKey("AddSlot", m.vm(), m.requestId());
    if (replayed(key, m.replyTo())) {
      return this;
    }
    long ticket;
    try {
      ticket = core.addSlot(m.vm(), m.slotId(), m.baseGfn(), m.npages(), m.hvaPage(), m.readOnly());
    } catch (IllegalArgumentException e) {
      return reject(m.replyTo(), m.requestId(), e.getMessage());
    } catch (RuntimeException e) {
      return failed(e, "AddSlot", m.vm(), -1, m.baseGfn(), m.replyTo(), m.requestId());
    }
    SlotAdded reply = new SlotAdded(m.requestId(), ticket, core.slotGeneration(m.vm()));
    remembered.put(key, reply);
    return answer(() -> m.replyTo().tell(reply));
  }

  private Behavior<Command> onRemoveSlot(RemoveSlot m) {
    if (round != null) {
      return stashOrReject(m, m.replyTo(), m.requestId());
    }
    RequestKey key = new RequestKey("RemoveSlot", m.vm(), m.requestId());
    if (replayed(key, m.replyTo())) {
      return this;
    }
    long ticket;
    try {
      ticket = core.beginRemoveSlot(m.vm(), m.slotId());
    } catch (IllegalArgumentException e) {
      return reject(m.replyTo(), m.requestId(), e.getMessage());
    } catch (RuntimeException e) {
      return failed(e, "RemoveSlot", m.vm(), -1, -1, m.replyTo(), m.requestId());
    }
    return slotUpdate(key, ticket, m.replyTo());
  }

  /**
   * A removal or move was published: its reply waits for the notifier acks, then for the ticket.
   */
  private Behavior<Command> slotUpdate(RequestKey key, long ticket, ActorRef<SlotReply> replyTo) {
    SlotWaiter w = new SlotWaiter(key.requestId(), ticket, replyTo);
    remembered.put(key, w);
    return answer(
        () -> {
          if (core.isComplete(ticket)) {
            completeSlotWaiter(w);
          } else {
            count(ShellCounter.SLOT_UPDATES_WAITED);
            waitingTickets.put(ticket, w);
          }
        });
  }

  /** Called by the core (inside a lease release) when a memslot update completed. */
  private void onTicketCompleted(long ticket) {
    SlotWaiter w = waitingTickets.remove(ticket);
    if (w != null) {
      completeSlotWaiter(w);
    }
  }

  private void completeSlotWaiter(SlotWaiter w) {
    SlotUpdateCompleted reply = new SlotUpdateCompleted(w.requestId, w.ticket);
    for (var e : remembered.entrySet()) {
      if (e.getValue() == w) {
        e.setValue(reply);
        break;
      }
    }
    for (ActorRef<SlotReply> r : w.replyTos) {
      r.tell(reply);
    }
  }

  private Behavior<Command> onPopulate(Populate m) {
    if (round != null) {
      return stashOrReject(m, m.replyTo(), m.requestId());
    }
    RequestKey key = new RequestKey("Populate", m.vm(), m.requestId());
    if (replayed(key, m.replyTo())) {
      return this;
    }
    try {
      core.populate(m.vm(), m.gfn(), m.fingerprint());
    } catch (IllegalArgumentException e) {
      return reject(m.replyTo(), m.requestId(), e.getMessage());
    } catch (RuntimeException e) {
      return failed(e, "Populate", m.vm(), -1, m.gfn(), m.replyTo(), m.requestId());
    }
    Populated reply = new Populated(m.requestId());
    remembered.put(key, reply);
    return answer(() -> m.replyTo().tell(reply));
  }

  // ---- gfn to pfn and leases ------------------------------------------------------------------

  private Behavior<Command> onGfnToPfnProt(GfnToPfnProt m) {
    if (round != null) {
      return stashOrReject(m, m.replyTo(), m.requestId());
    }
    if (m.vcpu() < 0 || m.vcpu() > MAX_VCPU) {
      return reject(
          m.replyTo(),
          m.requestId(),
          "vcpu: " + m.vcpu() + " is out of range; allowed 0 to " + MAX_VCPU);
    }
    long who = ((long) m.vm() << 32) | m.vcpu();
    LastPfn last = lastPfn.get(who);
    if (last != null && last.requestId() == m.requestId()) {
      count(ShellCounter.RETRIES_ANSWERED);
      m.replyTo().tell(last.reply());
      return this;
    }
    if (!core.hasVm(m.vm())) {
      return reject(m.replyTo(), m.requestId(), badVm(m.vm()));
    }
    long token = core.leaseAcquire(m.vm());
    PfnResult result;
    eventVcpu = m.vcpu();
    try {
      result = core.gfnToPfnProt(m.vm(), m.gfn(), m.writeFault());
    } catch (IllegalArgumentException e) {
      core.leaseRelease(m.vm(), token);
      return reject(m.replyTo(), m.requestId(), e.getMessage());
    } catch (RuntimeException e) {
      core.leaseRelease(m.vm(), token);
      return failed(e, "GfnToPfnProt", m.vm(), m.vcpu(), m.gfn(), m.replyTo(), m.requestId());
    } finally {
      eventVcpu = MeshEvent.NONE;
    }
    long lease = nextLease++;
    leases.put(lease, new HeldLease(m.vm(), m.vcpu(), token, leaseExpiryTick()));
    pageRefs.take(lease, result);
    count(ShellCounter.LEASES_GRANTED);
    PfnAnswered reply = new PfnAnswered(m.requestId(), result, lease);
    lastPfn.put(who, new LastPfn(m.requestId(), reply));
    return answer(() -> m.replyTo().tell(reply));
  }

  private Behavior<Command> onReleaseLease(ReleaseLease m) {
    HeldLease h = leases.get(m.lease());
    if (h == null || h.vm() != m.vm()) {
      count(ShellCounter.LEASE_RELEASES_UNKNOWN);
      ctx.getLog().debug("ReleaseLease of lease {} on vm {}: not held", m.lease(), m.vm());
      return this;
    }
    leases.remove(m.lease());
    count(ShellCounter.LEASES_RELEASED);
    pageRefs.release(m.lease());
    core.leaseRelease(h.vm(), h.token());
    return this;
  }

  /**
   * The tick at which a lease granted now expires, starting the lease tick if it is stopped (see
   * the class comment: exact when the tick starts now, one tick later when its phase is unknown).
   */
  private long leaseExpiryTick() {
    if (!leaseTickRunning) {
      leaseTickRunning = true;
      timers.startTimerAtFixedRate(LEASE_TICK_KEY, LEASE_TICK, settings.leaseTick());
      return leaseTicks + ticksPerLease;
    }
    return leaseTicks + ticksPerLease + 1;
  }

  /** Expires the leases due (a prefix in grant order); stops the tick when none is held. */
  private Behavior<Command> onLeaseTick(LeaseTick m) {
    leaseTicks++;
    while (!leases.isEmpty()) {
      long lease = leases.firstLongKey();
      HeldLease h = leases.get(lease);
      if (h.expiryTick() > leaseTicks) {
        break;
      }
      leases.removeFirst();
      pageRefs.release(lease);
      count(ShellCounter.LEASES_EXPIRED);
      ctx.getLog()
          .warn(
              "lease {} of vm {} vcpu {} not released within {}: released now (a memslot update"
                  + " may have waited for it)",
              lease,
              h.vm(),
              h.vcpu(),
              settings.leaseTimeout());
      core.leaseRelease(h.vm(), h.token());
    }
    if (leases.isEmpty()) {
      timers.cancel(LEASE_TICK_KEY);
      leaseTickRunning = false;
    }
    return this;
  }

  // ---- stores and frame contents -------------------------------------------------------------

  /** Never stashed (see {@link ApplyStores}); changes only frame contents, emits no event. */
  private Behavior<Command> onApplyStores(ApplyStores m) {
    String bad = null;
    if (m.vcpu() < 0 || m.vcpu() > MAX_VCPU) {
      bad = "vcpu: " + m.vcpu() + " is out of range; allowed 0 to " + MAX_VCPU;
    } else if (m.vm() < 0 || m.vm() > PageFrames.MAX_VM) {
      bad = badVm(m.vm());
    } else if (m.pfns() == null || m.offsets() == null || m.values() == null) {
      bad = "pfns/offsets/values: null; required";
    } else if (m.pfns().length > MAX_STORES) {
      bad = "pfns: " + m.pfns().length + " stores is out of range; allowed 0 to " + MAX_STORES;
    } else if (m.offsets().length != m.pfns().length || m.values().length != m.pfns().length) {
      bad =
          "offsets/values: lengths "
              + m.offsets().length
              + "/"
              + m.values().length
              + " are not allowed; must equal pfns' length "
              + m.pfns().length;
    } else {
      for (int i = 0; i < m.offsets().length && bad == null; i++) {
        if (m.offsets()[i] < 0 || m.offsets()[i] > PageFrames.MAX_OFFSET) {
          bad =
              "offsets["
                  + i
                  + "]: "
                  + m.offsets()[i]
                  + " is out of range; allowed 0 to "
                  + PageFrames.MAX_OFFSET;
        }
      }
    }
    if (bad != null) {
      count(ShellCounter.REJECTED);
      m.replyTo().tell(new Rejected(m.requestId(), bad));
      return this;
    }
    long who = ((long) m.vm() << 32) | m.vcpu();
    LastStores last = lastStores.get(who);
    if (last != null && last.requestId() == m.requestId()) {
      count(ShellCounter.RETRIES_ANSWERED);
      m.replyTo().tell(last.reply());
      return this;
    }
    int applied = 0;
    int refused = 0;
    for (int i = 0; i < m.pfns().length; i++) {
      try {
        core.storeFrame(m.pfns()[i], m.offsets()[i], m.values()[i]);
        applied++;
      } catch (IllegalStateException e) {
        refused++;
        ctx.getLog()
            .warn(
                "store refused (vm {}, vcpu {}, pfn {}, offset {}): {}",
                m.vm(),
                m.vcpu(),
                m.pfns()[i],
                m.offsets()[i],
                e.getMessage());
      } catch (RuntimeException e) {
        refused++;
        count(ShellCounter.CORE_FAILURES);
        ctx.getLog()
            .error(
                "page-frame core failed in ApplyStores (vm {}, vcpu {}, pfn {})",
                m.vm(),
                m.vcpu(),
                m.pfns()[i],
                e);
      }
    }
    shellCounters[ShellCounter.STORES_APPLIED.ordinal()] += applied;
    shellCounters[ShellCounter.STORES_REFUSED.ordinal()] += refused;
    StoresDone reply = new StoresDone(m.requestId(), applied, refused);
    lastStores.put(who, new LastStores(m.requestId(), reply));
    m.replyTo().tell(reply);
    return this;
  }

  /** Read-only, handled at once: the fingerprint behind each gfn (zero-page content if none). */
  private Behavior<Command> onReadFrames(ReadFrames m) {
    String bad = null;
    if (!core.hasVm(m.vm())) {
      bad = badVm(m.vm());
    } else if (m.count() < 0 || m.count() > MAX_READ_FRAMES) {
      bad =
          "count: "
              + m.count()
              + " is out of range; allowed 0 to "
              + MAX_READ_FRAMES
              + " per ReadFrames: read a larger range in consecutive chunks (gfnStart, gfnStart"
              + " + chunk, ...), each of at most "
              + MAX_READ_FRAMES
              + " frames, and of at most "
              + READ_FRAMES_CHUNK
              + " when the reply may cross nodes";
    } else if (m.gfnStart() < 0 || m.gfnStart() > PageFrames.MAX_GFN + 1 - m.count()) {
      bad =
          "gfnStart: "
              + m.gfnStart()
              + " is out of range; allowed 0 to "
              + (PageFrames.MAX_GFN + 1 - m.count())
              + " for count "
              + m.count();
    }
    if (bad != null) {
      count(ShellCounter.REJECTED);
      m.replyTo().tell(new Rejected(m.requestId(), bad));
      return this;
    }
    long[] fps = new long[m.count()];
    for (int i = 0; i < fps.length; i++) {
      long gfn = m.gfnStart() + i;
      MemSlot slot = core.slotOf(m.vm(), gfn);
      int pfn = slot == null ? -1 : core.ptePfn(m.vm(), slot.hvaOf(gfn));
      fps[i] = pfn < 0 ? Fingerprint.ZERO : core.frameFingerprint(pfn);
    }
    m.replyTo().tell(new FramesRead(m.requestId(), m.vm(), m.gfnStart(), fps));
    return this;
  }

  private Behavior<Command> onReadWord(ReadWord m) {
    String bad = null;
    if (!core.hasVm(m.vm())) {
      bad = badVm(m.vm());
    } else if (m.offset() < 0 || m.offset() >= Fingerprint.PAGE_BYTES) {
      bad =
          "offset: "
              + m.offset()
              + " is out of range; allowed 0 to "
              + (Fingerprint.PAGE_BYTES - 1);
    }
    long fp = 0;
    if (bad == null) {
      try {
        fp = core.frameFingerprint(m.pfn());
      } catch (IllegalArgumentException e) {
        bad = e.getMessage();
      }
    }
    if (bad != null) {
      count(ShellCounter.REJECTED);
      m.replyTo().tell(new Rejected(m.requestId(), bad));
      return this;
    }
    m.replyTo()
        .tell(new WordRead(m.requestId(), m.pfn(), fp, Fingerprint.loadWord(fp, m.offset())));
    return this;
  }

  // ---- KSM scanner (FrameScanner) ------------------------------------------------------------

  private Behavior<Command> onKsmScan(KsmScan m) {
    if (round != null) {
      return stashOrReject(m, m.replyTo(), m.requestId());
    }
    RequestKey key = new RequestKey("KsmScan", -1, m.requestId());
    if (replayed(key, m.replyTo())) {
      return this;
    }
    if (scanner == null) {
      return reject(m.replyTo(), m.requestId(), NO_SCANNER);
    }
    if (m.pages() < 0 || m.pages() > UINT_MAX) {
      return reject(
          m.replyTo(),
          m.requestId(),
          "pages: " + m.pages() + " is out of range; allowed 0 to " + UINT_MAX);
    }
    FrameScanner.Batch b;
    try {
      b = scanner.scan(m.pages());
    } catch (IllegalArgumentException e) {
      return reject(m.replyTo(), m.requestId(), e.getMessage());
    } catch (RuntimeException e) {
      return failed(e, "KsmScan", -1, -1, -1, m.replyTo(), m.requestId());
    }
    count(ShellCounter.KSM_BATCHES);
    if (b.handshakePending()) {
      count(ShellCounter.KSM_HANDSHAKES);
    }
    KsmScanned reply = new KsmScanned(m.requestId(), b.visited(), b.handshakePending());
    remembered.put(key, reply);
    return answer(() -> m.replyTo().tell(reply));
  }

  private Behavior<Command> onKsmSetRun(KsmSetRun m) {
    if (round != null) {
      return stashOrReject(m, m.replyTo(), m.requestId());
    }
    RequestKey key = new RequestKey("KsmSetRun", -1, m.requestId());
    if (replayed(key, m.replyTo())) {
      return this;
    }
    if (scanner == null) {
      return reject(m.replyTo(), m.requestId(), NO_SCANNER);
    }
    try {
      scanner.setRun(m.run());
    } catch (IllegalArgumentException e) {
      return reject(m.replyTo(), m.requestId(), e.getMessage());
    } catch (RuntimeException e) {
      return failed(e, "KsmSetRun", -1, -1, -1, m.replyTo(), m.requestId());
    }
    return ksmControlDone(key, m.replyTo());
  }

  private Behavior<Command> onKsmMadvise(KsmMadvise m) {
    if (round != null) {
      return stashOrReject(m, m.replyTo(), m.requestId());
    }
    RequestKey key = new RequestKey("KsmMadvise", m.vm(), m.requestId());
    if (replayed(key, m.replyTo())) {
      return this;
    }
    if (scanner == null) {
      return reject(m.replyTo(), m.requestId(), NO_SCANNER);
    }
    try {
      scanner.madvise(m.vm(), m.hvaPage(), m.pages(), m.mergeable());
    } catch (IllegalArgumentException e) {
      return reject(m.replyTo(), m.requestId(), e.getMessage());
    } catch (RuntimeException e) {
      return failed(e, "KsmMadvise", m.vm(), -1, -1, m.replyTo(), m.requestId());
    }
    return ksmControlDone(key, m.replyTo());
  }

  private Behavior<Command> ksmControlDone(RequestKey key, ActorRef<KsmScannerReply> replyTo) {
    KsmControlDone reply = new KsmControlDone(key.requestId());
    remembered.put(key, reply);
    return answer(() -> replyTo.tell(reply));
  }

  private Behavior<Command> onKsmFullScans(KsmFullScans m) {
    if (round != null) {
      return stashOrReject(m, m.replyTo(), m.requestId());
    }
    RequestKey key = new RequestKey("KsmFullScans", -1, m.requestId());
    if (replayed(key, m.replyTo())) {
      return this;
    }
    if (scanner == null) {
      return reject(m.replyTo(), m.requestId(), NO_SCANNER);
    }
    if (m.passes() < 0) {
      return reject(
          m.replyTo(),
          m.requestId(),
          "passes: " + m.passes() + " is out of range; allowed 0 to " + Integer.MAX_VALUE);
    }
    return continueFullScans(key, m, m.passes(), 0);
  }

  /**
   * One step of a {@link KsmFullScans}: scan until the passes are done or a merge waits for a
   * handshake; in that case the next step runs when the round is acknowledged ({@link
   * #finishRound()} does not unstash while a step started another round).
   */
  private Behavior<Command> continueFullScans(
      RequestKey key, KsmFullScans m, int remaining, long handshakes) {
    FrameScanner.Passes p;
    try {
      p = scanner.runFullScans(remaining);
    } catch (IllegalArgumentException e) {
      return reject(m.replyTo(), m.requestId(), e.getMessage());
    } catch (RuntimeException e) {
      return failed(e, "KsmFullScans", -1, -1, -1, m.replyTo(), m.requestId());
    }
    int left = remaining - p.passesCompleted();
    if (p.handshakePending()) {
      count(ShellCounter.KSM_HANDSHAKES);
      long waited = handshakes + 1;
      return answer(() -> continueFullScans(key, m, left, waited));
    }
    KsmFullScansDone reply = new KsmFullScansDone(m.requestId(), m.passes() - left, handshakes);
    remembered.put(key, reply);
    return answer(() -> m.replyTo().tell(reply));
  }

  /** Read-only, handled at once (the scanner is between batches whenever a message runs). */
  private Behavior<Command> onGetKsmCounters(GetKsmCounters m) {
    if (scanner == null) {
      count(ShellCounter.REJECTED);
      m.replyTo().tell(new Rejected(m.requestId(), NO_SCANNER));
      return this;
    }
    m.replyTo()
        .tell(
            new KsmCounters(
                m.requestId(),
                new LinkedHashMap<>(scanner.counters()),
                List.copyOf(scanner.counterViolations())));
    return this;
  }

  // ---- notifier -------------------------------------------------------------------------------

  private Behavior<Command> onSubscribeNotifier(SubscribeNotifier m) {
    if (round != null) {
      if (stash.isFull()) {
        count(ShellCounter.STASH_FULL);
        ctx.getLog().error("SubscribeNotifier of vm {} dropped: stash full", m.vm());
      } else {
        stash.stash(m);
      }
      return this;
    }
    String bad = m.vm() < 0 || m.vm() > PageFrames.MAX_VM ? badVm(m.vm()) : null;
    if (bad == null && m.subscriber() == null) {
      bad = "subscriber: null; required";
    }
    if (bad != null) {
      count(ShellCounter.REJECTED);
      ctx.getLog().warn("SubscribeNotifier rejected: {}", bad);
      return this;
    }
    List<ActorRef<NotifierEvent>> subs =
        subscribers.computeIfAbsent(m.vm(), v -> new ArrayList<>(2));
    if (!subs.contains(m.subscriber())) {
      subs.add(m.subscriber());
      ctx.watch(m.subscriber());
    }
    return this;
  }

  private Behavior<Command> onNotifierAck(NotifierAck m) {
    if (round == null || !round.ack(m.vm(), m.notifierSeq())) {
      count(ShellCounter.NOTIFIER_ACKS_IGNORED);
      return this;
    }
    return round.complete() ? finishRound() : this;
  }

  private Behavior<Command> onAckTimedOut(AckTimedOut m) {
    if (round == null || round.id() != m.roundId()) {
      return this;
    }
    count(ShellCounter.NOTIFIER_ACK_TIMEOUTS);
    shellCounters[ShellCounter.NOTIFIER_ACKS_MISSING.ordinal()] += round.outstanding();
    ctx.getLog()
        .warn(
            "MMU-notifier acks missing after {}: {}; answering anyway",
            settings.notifierAckTimeout(),
            round.describeOwed());
    return finishRound();
  }

  private Behavior<Command> onTerminated(Terminated t) {
    for (List<ActorRef<NotifierEvent>> subs : subscribers.values()) {
      subs.remove(t.getRef());
    }
    return this;
  }

  /**
   * Sends {@code reply} now if the core emitted no notifier event (or nobody subscribes to the VMs
   * concerned); otherwise sends the events and holds the reply until they are acknowledged.
   */
  private Behavior<Command> answer(Runnable reply) {
    if (emitted.isEmpty()) {
      core.completeInvalidations();
      reply.run();
      return this;
    }
    NotifierRound r = new NotifierRound(nextRoundId++);
    for (long[] e : emitted) {
      int vm = (int) e[0];
      List<ActorRef<NotifierEvent>> subs = subscribers.get(vm);
      if (subs == null) {
        continue;
      }
      NotifierEvent ev = new NotifierEvent(vm, e[1], e[2], e[3], ackRef);
      for (ActorRef<NotifierEvent> s : subs) {
        s.tell(ev);
        r.expect(vm, e[3]);
        count(ShellCounter.NOTIFIER_EVENTS_SENT);
      }
    }
    emitted.clear();
    if (r.complete()) {
      core.completeInvalidations();
      reply.run();
      return this;
    }
    count(ShellCounter.NOTIFIER_ROUNDS);
    round = r;
    heldReply = reply;
    timers.startSingleTimer(
        AckTimedOut.class, new AckTimedOut(r.id()), settings.notifierAckTimeout());
    return this;
  }

  private Behavior<Command> finishRound() {
    timers.cancel(AckTimedOut.class);
    Runnable reply = heldReply;
    round = null;
    heldReply = null;
    core.completeInvalidations(); // the KSM merge handshake may go on
    reply.run();
    if (round != null) {
      return this; // the held step (a KSM full-scan step) started the next round
    }
    return stash.unstashAll(this);
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
    for (ShellCounter s : SHELL_COUNTERS) {
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
    if (scanner != null) {
      scanner.counterViolationsIncremental().forEach(x -> v.add("ksm: " + x));
    }
    m.replyTo().tell(new InvariantsReply(v));
    return this;
  }

  // ---- helpers --------------------------------------------------------------------------------

  private static String badVm(int vm) {
    if (vm < 0 || vm > PageFrames.MAX_VM) {
      return "vm: " + vm + " is out of range; allowed 0 to " + PageFrames.MAX_VM;
    }
    return "vm: " + vm + " does not exist; create it first";
  }

  private void count(ShellCounter c) {
    shellCounters[c.ordinal()]++;
  }

  /** Answers a retry from memory: a remembered reply, or joins a slot update still waiting. */
  @SuppressWarnings("unchecked")
  private boolean replayed(RequestKey key, ActorRef<? extends Reply> replyTo) {
    Object prior = remembered.get(key);
    if (prior == null) {
      return false;
    }
    count(ShellCounter.RETRIES_ANSWERED);
    if (prior instanceof SlotWaiter w) {
      w.replyTos.add((ActorRef<SlotReply>) (ActorRef<?>) replyTo);
    } else {
      ((ActorRef<Object>) (ActorRef<?>) replyTo).tell(prior);
    }
    return true;
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
                  + " commands) while an MMU-notifier round is in flight; retry later"));
    } else {
      stash.stash(m);
    }
    return this;
  }

  private Behavior<Command> reject(
      ActorRef<? super Rejected> replyTo, long requestId, String reason) {
    count(ShellCounter.REJECTED);
    Rejected r = new Rejected(requestId, reason);
    return answer(() -> replyTo.tell(r));
  }

  /** The core threw unexpectedly: log with the vm, vCPU and gfn, answer Failed, keep the state. */
  private Behavior<Command> failed(
      RuntimeException e,
      String what,
      int vm,
      int vcpu,
      long gfn,
      ActorRef<? super Failed> replyTo,
      long requestId) {
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

  // ---- the event feed -------------------------------------------------------------------------

  /**
   * Publishes the core's COW breaks and KSM merges ({@link FrameEventListener}) on this node's
   * {@link MeshEventBus}, building an event only while somebody watches ({@link
   * MeshEventBus#wants}: one volatile read and a mask test otherwise).
   */
  private final class FrameEvents implements FrameEventListener {
    @Override
    public void cowBreak(int vm, long gfn, int oldPfn, int newPfn, boolean ksm) {
      if (events.wants(MeshEvent.Kind.COW_BREAK, vm)) {
        events.publish(
            new MeshEvent(
                MeshEvent.Kind.COW_BREAK,
                hostId,
                vm,
                eventVcpu,
                MeshEvent.NONE,
                gfn,
                newPfn,
                (ksm ? "cow ksm pfn " : "cow pfn ") + oldPfn + " -> " + newPfn));
      }
    }

    @Override
    public void merged(int vm, long gfn, int oldPfn, int kpfn) {
      if (events.wants(MeshEvent.Kind.MERGE, vm)) {
        events.publish(
            new MeshEvent(
                MeshEvent.Kind.MERGE,
                hostId,
                vm,
                MeshEvent.NONE,
                MeshEvent.NONE,
                gfn,
                kpfn,
                "merge pfn " + oldPfn + " -> ksm pfn " + kpfn));
      }
    }
  }
}
