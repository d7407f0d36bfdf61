package org.mmumesh.vcpu.actor;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Quirk;
import org.mmumesh.guestmmu.GuestMmuKind;
import org.mmumesh.guestmmu.GuestSetup;
import org.mmumesh.guestmmu.ProtectionPolicy;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.HostMmuConfig;
import org.mmumesh.hostmmu.ShadowDump;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.hostmmu.actor.NotifierAdapter;
import org.mmumesh.hostmmu.actor.TlbieAdapter;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.pageframe.actor.ScriptedKsm;
import org.mmumesh.vcpu.VcpuSetup;

/**
 * A small actor mesh for flow tests, wired as {@code org.mmumesh.mesh.Guardian} wires one node but
 * with the actors spawned directly in an {@link ActorTestKit} (no sharding): one real {@link
 * PageFrame} (host 0) and, per VM, a real {@link HostMmu}, {@link GuestMmu} and one {@link Vcpu},
 * plus the two glue adapters the mesh uses ({@link TlbieAdapter}, {@link NotifierAdapter}). The VMs
 * are created as {@code MeshCluster.run} creates them: the notifier adapter subscribed, {@code
 * CreateVm}, memslot 0 over {@code [0, memoryPages)} at host page 0; the guest setup is {@code
 * Guardian.guestSetup} for a 64-bit guest of {@link #PAGES} pages ({@code GuestLayout.of}), the
 * host MMU {@code Guardian.hostConfig} (64-bit host, context ids {@code 1 + 4 vm}).
 *
 * <p>Observation: every command reaching a real actor is also copied to a probe ({@code
 * Behaviors.monitor}): {@link #hostIn}, {@link #guestIn}, {@link #framesIn}. Everybody talks to a
 * VM's HostMmu through a {@link FlowGate} (the vCPU, the tlbie and notifier adapters), so a test
 * can hold chosen messages back. The {@code *Barrier} methods drain a monitor probe up to a marker
 * query the test sends through the same path: in one JVM a tell is enqueued when it is made, so
 * every message sent to the actor before the marker is drained too.
 *
 * <p>Timeouts (vCPU request timeout, lease, notifier-ack, shootdown and tlbie timeouts) are set to
 * {@link #LONG} so that none of them fires during a test: a hang fails the test at a probe's wait
 * instead of being papered over by a timeout path.
 */
final class FlowMesh {
  /** Guest pages (the linear-map window), as {@code WorkloadSpec.pagesPerVm}. */
  static final int PAGES = 64;

  /** {@code MmuKind.LINEAR_MAP_BASE}: EA page {@code p} of the window is gfn {@code p}. */
  static final long BASE = 0x1000_0000L;

  /** Longer than any test: no timeout path may run. */
  static final Duration LONG = Duration.ofSeconds(60);

  /** {@code GuestLayout.of(BOOK3S_64, PAGES)}: a 2048-PTEG HTAB (256 KiB) above the pages. */
  static final long HTAB_BYTES = 1L << 18;

  static final long HTAB_ORIGIN = ((PAGES << 12) + HTAB_BYTES - 1) & -HTAB_BYTES;
  static final long SDR1 = HTAB_ORIGIN; // HTABSIZE 0
  static final long MEMORY_PAGES = (HTAB_ORIGIN + HTAB_BYTES) >>> 12;

  /** One VM's actors and monitor probes. */
  static final class Vm {
    final int vm;
    final ActorRef<HostMmu.Command> host;
    final ActorRef<Object> hostGate;
    final ActorRef<GuestMmu.Command> guest;
    final ActorRef<Vcpu.Command> vcpu;
    final TestProbe<HostMmu.Command> hostIn;
    final TestProbe<GuestMmu.Command> guestIn;

    Vm(
        int vm,
        ActorRef<HostMmu.Command> host,
        ActorRef<Object> hostGate,
        ActorRef<GuestMmu.Command> guest,
        ActorRef<Vcpu.Command> vcpu,
        TestProbe<HostMmu.Command> hostIn,
        TestProbe<GuestMmu.Command> guestIn) {
      this.vm = vm;
      this.host = host;
      this.hostGate = hostGate;
      this.guest = guest;
      this.vcpu = vcpu;
      this.hostIn = hostIn;
      this.guestIn = guestIn;
    }
  }

  final ActorTestKit kit;
  final MmuOptions options;
  final ActorRef<PageFrame.Command> frames;
  final TestProbe<PageFrame.Command> framesIn;

  /** ksmd, scripted: KSM page operations go through the frames' KsmScan path. */
  private final ScriptedKsm ksm = new ScriptedKsm();

  final List<Vm> vms = new ArrayList<>();
  private final List<ActorRef<?>> spawned = new ArrayList<>();
  private long nextId = 1;
  private long nextBatch = 1;

  /** Effective address of byte {@code offset} of window page (gfn) {@code page}. */
  static long ea(long page, int offset) {
    return BASE + (page << 12) + offset;
  }

  static AccessOp load(long ea) {
    return new AccessOp(Access.LOAD, ea, 0);
  }

  static AccessOp store(long ea, long value) {
    return new AccessOp(Access.STORE, ea, value);
  }

  /** The guest setup of {@code Guardian.guestSetup} for this layout. */
  static GuestSetup guestSetup(MmuOptions options, int guestPp) {
    return new GuestSetup(
        GuestMmuKind.BOOK3S_64,
        SDR1,
        MEMORY_PAGES << 12,
        options,
        1,
        BASE,
        PAGES,
        guestPp,
        ProtectionPolicy.UPGRADE);
  }

  /**
   * Spawns the page frames and {@code vmCount} VMs of one vCPU each, guest PP {@code guestPp} (2:
   * read/write, 3: read-only), and creates every VM on the page frames.
   */
  FlowMesh(ActorTestKit kit, MmuOptions options, int vmCount, int guestPp) {
    this.kit = kit;
    this.options = options;
    framesIn = kit.createTestProbe();
    frames =
        spawn(
            Behaviors.monitor(
                PageFrame.Command.class,
                framesIn.getRef(),
                PageFrame.create(
                    new PageFrame.Settings(LONG, LONG, 4096, 1024, 1024), ksm.factory())));
    boolean fullFlush = options.has(Quirk.Q8_NOTIFIER_FULL_FLUSH);
    GuestSetup gs = guestSetup(options, guestPp);
    for (int v = 0; v < vmCount; v++) {
      TestProbe<HostMmu.Command> hostIn = kit.createTestProbe();
      TestProbe<GuestMmu.Command> guestIn = kit.createTestProbe();
      ActorRef<HostMmu.Command> host =
          spawn(
              Behaviors.monitor(
                  HostMmu.Command.class,
                  hostIn.getRef(),
                  HostMmu.create(
                      HostMmuConfig.host64(1).withFirstContextId(1 + v * 4),
                      new HostMmu.Settings(LONG, 4096))));
      ActorRef<Object> gate = spawn(FlowGate.create(host));
      ActorRef<HostMmu.Command> gated = gate.narrow();
      ActorRef<Object> tlbie = spawn(TlbieAdapter.create(gated));
      ActorRef<Object> notifier = spawn(NotifierAdapter.create(gated, v, fullFlush));
      ActorRef<GuestMmu.Command> guest =
          spawn(
              Behaviors.monitor(
                  GuestMmu.Command.class,
                  guestIn.getRef(),
                  GuestMmu.create(gs, tlbie.narrow(), LONG)));
      VcpuSetup setup = new VcpuSetup(v, 0, options, 64, 16, LONG, 3, 4, 16);
      ActorRef<Vcpu.Command> vcpu =
          spawn(Vcpu.create(setup, guest, gated, frames, frames.narrow()));
      frames.tell(new PageFrame.SubscribeNotifier(v, notifier.narrow()));
      TestProbe<PageFrame.VmReply> vr = kit.createTestProbe();
      long id = nextId++;
      frames.tell(new PageFrame.CreateVm(id, v, vr.getRef()));
      vr.expectMessage(new PageFrame.VmCreated(id, v));
      TestProbe<PageFrame.SlotReply> sr = kit.createTestProbe();
      frames.tell(new PageFrame.AddSlot(nextId++, v, 0, 0, MEMORY_PAGES, 0, false, sr.getRef()));
      sr.expectMessageClass(PageFrame.SlotAdded.class);
      vms.add(new Vm(v, host, gate, guest, vcpu, hostIn, guestIn));
    }
  }

  private <T> ActorRef<T> spawn(org.apache.pekko.actor.typed.Behavior<T> b) {
    ActorRef<T> r = kit.spawn(b);
    spawned.add(r);
    return r;
  }

  /** Stops every actor of this mesh. */
  void stop() {
    for (int i = spawned.size() - 1; i >= 0; i--) {
      kit.stop(spawned.get(i));
    }
  }

  Vm vm(int v) {
    return vms.get(v);
  }

  long nextId() {
    return nextId++;
  }

  // ---- guest memory setup -------------------------------------------------------------------

  /** Boot-image load: gfn {@code gfn} of VM {@code vm} gets a private frame with {@code fp}. */
  void populate(int vm, long gfn, long fp) {
    TestProbe<PageFrame.PopulateReply> r = kit.createTestProbe();
    long id = nextId++;
    frames.tell(new PageFrame.Populate(id, vm, gfn, fp, r.getRef()));
    r.expectMessage(new PageFrame.Populated(id));
  }

  /** A gfn-to-pfn as a vCPU index no vCPU uses (99), its lease released at once. */
  PageFrame.PfnAnswered pfnOf(int vm, long gfn, boolean write) {
    TestProbe<PageFrame.PfnReply> r = kit.createTestProbe();
    long id = nextId++;
    frames.tell(new PageFrame.GfnToPfnProt(id, vm, 99, gfn, write, r.getRef()));
    PageFrame.PfnAnswered a = r.expectMessageClass(PageFrame.PfnAnswered.class);
    frames.tell(new PageFrame.ReleaseLease(vm, a.lease()));
    return a;
  }

  /**
   * A KSM page operation on the frames' core ({@code write_protect_page}, {@code replace_page},
   * ...), run through ksmd's real path (a KsmScan batch, answered after its notifier round); its
   * result.
   */
  boolean ksmOp(Predicate<PageFrames> step) {
    return ksm.run(kit, frames, step);
  }

  // ---- running the vCPU -----------------------------------------------------------------------

  /** Runs one batch on VM {@code vm}'s vCPU and waits for its BatchDone. */
  Vcpu.BatchDone run(int vm, AccessOp... ops) {
    TestProbe<Vcpu.BatchReply> r = kit.createTestProbe();
    long id = nextBatch++;
    vm(vm).vcpu.tell(new Vcpu.RunBatch(id, List.of(ops), r.getRef()));
    Vcpu.BatchDone d = r.expectMessageClass(Vcpu.BatchDone.class);
    assertThat(d.batchId()).isEqualTo(id);
    return d;
  }

  /** Starts one batch; the caller waits on {@code replyTo}. */
  void start(int vm, TestProbe<Vcpu.BatchReply> replyTo, AccessOp... ops) {
    vm(vm).vcpu.tell(new Vcpu.RunBatch(nextBatch++, List.of(ops), replyTo.getRef()));
  }

  Vcpu.StatusReport status(int vm) {
    TestProbe<Vcpu.StatusReport> r = kit.createTestProbe();
    vm(vm).vcpu.tell(new Vcpu.GetCounters(r.getRef()));
    return r.receiveMessage();
  }

  // ---- state queries --------------------------------------------------------------------------

  ShadowDump shadow(int vm) {
    TestProbe<HostMmu.ShadowDumped> r = kit.createTestProbe();
    vm(vm).host.tell(new HostMmu.DumpShadow(r.getRef()));
    return r.receiveMessage().dump();
  }

  /** Live shadow entries of VM {@code vm} whose guest frame is {@code gfn}. */
  List<ShadowDump.ShadowEntry> shadowOf(int vm, long gfn) {
    return shadow(vm).vcpus().stream().flatMap(List::stream).filter(e -> e.gfn() == gfn).toList();
  }

  Map<String, Long> hostStats(int vm) {
    TestProbe<HostMmu.StatsReply> r = kit.createTestProbe();
    vm(vm).host.tell(new HostMmu.GetStats(r.getRef()));
    return r.receiveMessage().counters();
  }

  PageFrame.StatsReply frameStats() {
    TestProbe<PageFrame.StatsReply> r = kit.createTestProbe();
    frames.tell(new PageFrame.GetStats(r.getRef()));
    return r.receiveMessage();
  }

  long frameStat(String name) {
    return frameStats().counters().getOrDefault(name, 0L);
  }

  int leasesHeld(int vm) {
    return frameStats().leasesHeld().getOrDefault(vm, 0);
  }

  /** The content fingerprint of VM {@code vm}'s gfn. */
  long readFrame(int vm, long gfn) {
    TestProbe<PageFrame.FramesReply> r = kit.createTestProbe();
    frames.tell(new PageFrame.ReadFrames(nextId++, vm, gfn, 1, r.getRef()));
    return r.expectMessageClass(PageFrame.FramesRead.class).fingerprints()[0];
  }

  List<String> frameInvariantViolations() {
    TestProbe<PageFrame.InvariantsReply> r = kit.createTestProbe();
    frames.tell(new PageFrame.CheckInvariants(r.getRef()));
    return r.receiveMessage().violations();
  }

  List<String> hostInvariantViolations(int vm) {
    TestProbe<HostMmu.InvariantsReply> r = kit.createTestProbe();
    vm(vm).host.tell(new HostMmu.CheckInvariants(r.getRef()));
    return r.receiveMessage().violations();
  }

  GuestMmu.KernelEvents kernelEvents(int vm) {
    TestProbe<GuestMmu.KernelEvents> r = kit.createTestProbe();
    vm(vm).guest.tell(new GuestMmu.GetKernelEvents(r.getRef()));
    return r.receiveMessage();
  }

  // ---- barriers: every message an actor received before a marker query ------------------------

  /**
   * The commands VM {@code vm}'s HostMmu received since the last barrier, in order, up to (not
   * including) a {@code GetStats} marker sent through the gate now.
   */
  List<HostMmu.Command> hostBarrier(int vm) {
    Vm v = vm(vm);
    TestProbe<HostMmu.StatsReply> marker = kit.createTestProbe();
    v.hostGate.tell(new HostMmu.GetStats(marker.getRef()));
    List<HostMmu.Command> got =
        upTo(v.hostIn, m -> m instanceof HostMmu.GetStats g && g.replyTo().equals(marker.getRef()));
    marker.receiveMessage();
    return got;
  }

  /** As {@link #hostBarrier} for VM {@code vm}'s GuestMmu (marker {@code GetKernelEvents}). */
  List<GuestMmu.Command> guestBarrier(int vm) {
    Vm v = vm(vm);
    TestProbe<GuestMmu.KernelEvents> marker = kit.createTestProbe();
    v.guest.tell(new GuestMmu.GetKernelEvents(marker.getRef()));
    List<GuestMmu.Command> got =
        upTo(
            v.guestIn,
            m -> m instanceof GuestMmu.GetKernelEvents g && g.replyTo().equals(marker.getRef()));
    marker.receiveMessage();
    return got;
  }

  /** As {@link #hostBarrier} for the PageFrame (marker {@code GetStats}). */
  List<PageFrame.Command> framesBarrier() {
    TestProbe<PageFrame.StatsReply> marker = kit.createTestProbe();
    frames.tell(new PageFrame.GetStats(marker.getRef()));
    List<PageFrame.Command> got =
        upTo(
            framesIn,
            m -> m instanceof PageFrame.GetStats g && g.replyTo().equals(marker.getRef()));
    marker.receiveMessage();
    return got;
  }

  private static <T> List<T> upTo(TestProbe<T> probe, Predicate<T> marker) {
    List<T> fished =
        probe.fishForMessage(
            Duration.ofSeconds(10),
            m ->
                marker.test(m) ? FishingOutcomes.complete() : FishingOutcomes.continueAndCollect());
    return new ArrayList<>(fished.subList(0, fished.size() - 1));
  }

  // ---- holding messages at the HostMmu gate ---------------------------------------------------

  /** Holds the next {@code count} messages to VM {@code vm}'s HostMmu of class {@code c}. */
  TestProbe<FlowGate.Held> hold(int vm, Class<?> c, int count) {
    TestProbe<FlowGate.Held> held = kit.createTestProbe();
    vm(vm).hostGate.tell(new FlowGate.Hold(c::isInstance, count, held.getRef()));
    return held;
  }

  /** Delivers the held messages of class {@code c} to VM {@code vm}'s HostMmu. */
  void release(int vm, Class<?> c) {
    vm(vm).hostGate.tell(new FlowGate.Release(c::isInstance));
  }
}
