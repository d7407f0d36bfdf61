package org.mmumesh.vcpu.actor;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MeshEventBus;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.Lookup;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.VcpuSetup;

/**
 * The Vcpu's event-feed hook: each exit (NOHPTE, PROTFAULT) publishes one FAULT event with the VM,
 * the vCPU, the faulting EA and the exit kind, and nothing is published while nobody watches. The
 * other actors are TestProbes, answered up to the exit.
 */
class VcpuEventsTest {
  private static final ActorTestKit kit = ActorTestKit.create(ConfigFactory.load());
  private static final long EA = 0x10005010L;
  private static final long GVSID = 0x1234L;
  private static final int VM = 2;
  private static final int VCPU = 1;

  private final MeshEventBus bus = MeshEventBus.of(kit.system());
  private TestProbe<MeshEvent> events;
  private TestProbe<GuestMmu.Command> guest;
  private TestProbe<HostMmu.Command> host;
  private TestProbe<Vcpu.BatchReply> batches;
  private ActorRef<Vcpu.Command> vcpu;

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    events = kit.createTestProbe();
    guest = kit.createTestProbe();
    host = kit.createTestProbe();
    batches = kit.createTestProbe();
    TestProbe<PageFrame.Command> frames = kit.createTestProbe();
    VcpuSetup setup =
        new VcpuSetup(
            VM, VCPU, MmuOptions.defaults(Policy.FIXED), 64, 4, Duration.ofSeconds(30), 3, 2, 4);
    vcpu =
        kit.spawn(
            Vcpu.create(
                setup, guest.getRef(), host.getRef(), frames.getRef(), frames.getRef().narrow()));
    HostMmu.SubscribeTlb sub = host.expectMessageClass(HostMmu.SubscribeTlb.class);
    sub.vcpuRef().tell(new HostMmu.TlbShootdown(1, host.getRef().narrow()));
    host.expectMessageClass(HostMmu.TlbShootdownAck.class);
    guest.expectMessageClass(GuestMmu.GetMode.class).replyTo().tell(new GuestMmu.ModeOf(3));
  }

  @AfterEach
  void noWatchers() {
    bus.setWatchers(List.of());
  }

  private void watch() {
    bus.setWatchers(
        List.of(new MeshEventBus.Watcher(MeshEvent.Filter.ALL, e -> events.getRef().tell(e))));
  }

  /** Runs {@code op} up to its host lookup and answers the lookup with {@code prot}. */
  private void runToLookup(AccessOp op, Lookup prot) {
    vcpu.tell(new Vcpu.RunBatch(1, List.of(op), batches.getRef()));
    GuestMmu.EsidToVsid e = guest.expectMessageClass(GuestMmu.EsidToVsid.class);
    e.replyTo().tell(new GuestMmu.VsidOf(e.requestId(), GVSID));
    HostMmu.Lookup l = host.expectMessageClass(HostMmu.Lookup.class);
    l.replyTo()
        .tell(
            new HostMmu.LookedUp(
                l.requestId(),
                prot == Lookup.MISS ? -1 : 3,
                prot,
                prot == Lookup.MISS ? -1 : 77,
                1));
  }

  @Test
  void noHpteLoad_publishesAFaultEvent_withVmVcpuEaAndKind() {
    watch();
    runToLookup(new AccessOp(Access.LOAD, EA, 0), Lookup.MISS);
    assertThat(events.receiveMessage())
        .isEqualTo(
            new MeshEvent(
                MeshEvent.Kind.FAULT,
                MeshEvent.NONE,
                VM,
                VCPU,
                EA,
                MeshEvent.NONE,
                MeshEvent.NONE,
                "NOHPTE load"));
  }

  @Test
  void storeOnAReadOnlyHpte_publishesAProtfaultStore() {
    watch();
    runToLookup(new AccessOp(Access.STORE, EA, 5), Lookup.HIT_RO);
    MeshEvent e = events.receiveMessage();
    assertThat(e.kind()).isEqualTo(MeshEvent.Kind.FAULT);
    assertThat(e.detail()).isEqualTo("PROTFAULT store");
    assertThat(e.ea()).isEqualTo(EA);
  }

  @Test
  void nobodyWatching_aFaultPublishesNothing() {
    runToLookup(new AccessOp(Access.LOAD, EA, 0), Lookup.MISS);
    guest.expectMessageClass(GuestMmu.Xlate.class); // the fault is being handled
    events.expectNoMessage(Duration.ofMillis(300));
  }
}
