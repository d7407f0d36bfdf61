package org.mmumesh.hostmmu.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmumesh.hostmmu.actor.HostMmuFixtures.GVSID1;
import static org.mmumesh.hostmmu.actor.HostMmuFixtures.pte;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MeshEventBus;
import org.mmumesh.hostmmu.HostMmuConfig;
import org.mmumesh.hostmmu.HostMmuCore;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.Command;

/**
 * The HostMmu's event-feed hooks: a mapPage publishes a MAP event (VM, vCPU, EA, gfn, pfn, ro/rw),
 * a guest tlbie and a notifier range flush each publish an INVALIDATION with what they removed, and
 * nothing is published while nobody watches.
 */
class HostMmuEventsTest {
  private static final ActorTestKit kit = ActorTestKit.create(ConfigFactory.load());
  private static final Duration QUIET = Duration.ofMillis(300);
  private static final int VM = 4;
  private final AtomicLong ids = new AtomicLong(1);
  private final MeshEventBus bus = MeshEventBus.of(kit.system());
  private final TestProbe<MeshEvent> events = kit.createTestProbe();

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  @AfterEach
  void noWatchers() {
    bus.setWatchers(List.of());
  }

  private void watch() {
    bus.setWatchers(
        List.of(new MeshEventBus.Watcher(MeshEvent.Filter.ALL, e -> events.getRef().tell(e))));
  }

  private ActorRef<Command> spawn() {
    HostMmuConfig config = HostMmuConfig.host64(2);
    return kit.spawn(
        HostMmu.create(config, HostMmu.Settings.defaults(), () -> new HostMmuCore(config), VM));
  }

  private void map(ActorRef<Command> mmu, int vcpu, long ea, long raddr, int pfn, boolean w) {
    TestProbe<HostMmu.MapReply> p = kit.createTestProbe();
    mmu.tell(
        new HostMmu.MapPage(
            ids.getAndIncrement(),
            vcpu,
            pte(GVSID1, ea, raddr, w),
            GVSID1,
            pfn,
            w,
            -1,
            p.getRef()));
    assertThat(p.expectMessageClass(HostMmu.Mapped.class).installed()).isTrue();
  }

  @Test
  void mapPage_publishesAMapEvent_readOnlyAndReadWrite() {
    ActorRef<Command> mmu = spawn();
    watch();
    map(mmu, 1, 0x10005000L, 0xAB000L, 0x777, false);
    map(mmu, 0, 0x10006000L, 0xAC000L, 0x778, true);
    assertThat(events.receiveMessage())
        .isEqualTo(
            new MeshEvent(
                MeshEvent.Kind.MAP, MeshEvent.NONE, VM, 1, 0x10005000L, 0xAB, 0x777, "map ro"));
    MeshEvent rw = events.receiveMessage();
    assertThat(rw.detail()).isEqualTo("map rw");
    assertThat(rw.pfn()).isEqualTo(0x778);
    assertThat(rw.vcpu()).isZero();
  }

  @Test
  void notifierRangeAndTlbie_publishInvalidations_withWhatTheyRemoved() {
    ActorRef<Command> mmu = spawn();
    map(mmu, 0, 0x10005000L, 0xAB000L, 0x777, true);
    watch();
    TestProbe<HostMmu.NotifierReply> n = kit.createTestProbe();
    mmu.tell(new HostMmu.NotifierInvalidate(0xAB, 0xAC, 1, false, n.getRef()));
    n.expectMessageClass(HostMmu.NotifierAcked.class);
    MeshEvent e = events.receiveMessage();
    assertThat(e.kind()).isEqualTo(MeshEvent.Kind.INVALIDATION);
    assertThat(e.vmId()).isEqualTo(VM);
    assertThat(e.gfn()).isEqualTo(0xAB);
    assertThat(e.detail()).isEqualTo("notifier range 0xab-0xac removed 1");

    TestProbe<HostMmu.FlushReply> f = kit.createTestProbe();
    mmu.tell(
        new HostMmu.GuestTlbie(
            ids.getAndIncrement(), new HostFlush.PteVflush(0x42, 0xFFFFFFFFFL), f.getRef()));
    f.expectMessageClass(HostMmu.Flushed.class);
    assertThat(events.receiveMessage().detail())
        .isEqualTo("pte_vflush vpage 0x42 mask 0xfffffffff removed 0");
  }

  @Test
  void unmapThatRemovedAnEntry_andVcpuFlush_publishInvalidations() {
    ActorRef<Command> mmu = spawn();
    map(mmu, 1, 0x10005000L, 0xAB000L, 0x777, false);
    map(mmu, 1, 0x10006000L, 0xAC000L, 0x778, false);
    watch();
    TestProbe<HostMmu.UnmapReply> u = kit.createTestProbe();
    mmu.tell(
        new HostMmu.UnmapPage(
            ids.getAndIncrement(),
            1,
            pte(GVSID1, 0x10005000L, 0xAB000L, false),
            false,
            u.getRef()));
    assertThat(u.expectMessageClass(HostMmu.Unmapped.class).removed()).isEqualTo(1);
    MeshEvent e = events.receiveMessage();
    assertThat(e)
        .isEqualTo(
            new MeshEvent(
                MeshEvent.Kind.INVALIDATION,
                MeshEvent.NONE,
                VM,
                1,
                0x10005000L,
                0xAB,
                MeshEvent.NONE,
                "unmap_page removed 1"));
    // an unmap that finds nothing is not an event
    mmu.tell(
        new HostMmu.UnmapPage(
            ids.getAndIncrement(),
            1,
            pte(GVSID1, 0x10005000L, 0xAB000L, false),
            false,
            u.getRef()));
    assertThat(u.expectMessageClass(HostMmu.Unmapped.class).removed()).isZero();
    TestProbe<HostMmu.FlushReply> f = kit.createTestProbe();
    mmu.tell(new HostMmu.FlushVcpu(ids.getAndIncrement(), 1, f.getRef()));
    f.expectMessageClass(HostMmu.Flushed.class);
    MeshEvent flush = events.receiveMessage();
    assertThat(flush.vcpu()).isEqualTo(1);
    assertThat(flush.detail()).isEqualTo("flush_all (kvmppc_mmu_pte_flush 0, 0) removed 1");
  }

  @Test
  void nobodyWatching_nothingIsPublished() {
    ActorRef<Command> mmu = spawn();
    map(mmu, 0, 0x10005000L, 0xAB000L, 0x777, true);
    events.expectNoMessage(QUIET);
  }
}
