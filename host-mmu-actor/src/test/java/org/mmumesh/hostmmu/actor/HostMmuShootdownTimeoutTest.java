package org.mmumesh.hostmmu.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmumesh.hostmmu.actor.HostMmuFixtures.GVSID1;
import static org.mmumesh.hostmmu.actor.HostMmuFixtures.pte;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.GuestPte;
import org.mmumesh.hostmmu.HostMmuConfig;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.Command;

/** A subscriber that never acknowledges: the reply goes out at the timeout (ManualTime). */
class HostMmuShootdownTimeoutTest {
  private static final ActorTestKit kit =
      ActorTestKit.create(ManualTime.config().withFallback(ConfigFactory.load()));
  private static final ManualTime time = ManualTime.get(kit.system());
  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  @Test
  void unansweredShootdown_repliesAtTheTimeout_andCountsIt() {
    ActorRef<Command> mmu =
        kit.spawn(HostMmu.create(HostMmuConfig.host64(2), new HostMmu.Settings(TIMEOUT, 16)));
    TestProbe<HostMmu.TlbShootdown> silent = kit.createTestProbe();
    TestProbe<HostMmu.TlbShootdown> good = kit.createTestProbe();
    mmu.tell(new HostMmu.SubscribeTlb(0, silent.getRef()));
    mmu.tell(new HostMmu.SubscribeTlb(1, good.getRef()));
    silent.receiveMessage();
    good.receiveMessage();
    GuestPte g = pte(GVSID1, 0x10005000L, 0xAB000L, true);
    TestProbe<HostMmu.MapReply> mapped = kit.createTestProbe();
    mmu.tell(new HostMmu.MapPage(1, 0, g, GVSID1, 0x777, true, -1, mapped.getRef()));
    mapped.expectMessageClass(HostMmu.Mapped.class);

    TestProbe<HostMmu.UnmapReply> reply = kit.createTestProbe();
    mmu.tell(new HostMmu.UnmapPage(2, 0, g, false, reply.getRef()));
    silent.receiveMessage();
    HostMmu.TlbShootdown s = good.receiveMessage();
    s.ack().tell(new HostMmu.TlbShootdownAck(1, s.epoch()));

    time.expectNoMessageFor(TIMEOUT.minusMillis(1), reply);
    time.timePasses(Duration.ofMillis(1));
    HostMmu.Unmapped u = reply.expectMessageClass(HostMmu.Unmapped.class);
    assertThat(u.epoch()).isEqualTo(s.epoch());

    TestProbe<HostMmu.StatsReply> stats = kit.createTestProbe();
    mmu.tell(new HostMmu.GetStats(stats.getRef()));
    HostMmu.StatsReply r = stats.receiveMessage();
    assertThat(r.counters()).containsEntry("SHOOTDOWN_TIMEOUTS", 1L);
    assertThat(r.counters()).containsEntry("SHOOTDOWN_UNANSWERED_VCPUS", 1L);
  }

  @Test
  void fullStash_rejectsFurtherMutations_whileAShootdownIsInFlight() {
    ActorRef<Command> mmu =
        kit.spawn(HostMmu.create(HostMmuConfig.host64(1), new HostMmu.Settings(TIMEOUT, 1)));
    TestProbe<HostMmu.TlbShootdown> v0 = kit.createTestProbe();
    mmu.tell(new HostMmu.SubscribeTlb(0, v0.getRef()));
    v0.receiveMessage();
    GuestPte g = pte(GVSID1, 0x10005000L, 0xAB000L, true);
    TestProbe<HostMmu.MapReply> mapped = kit.createTestProbe();
    mmu.tell(new HostMmu.MapPage(1, 0, g, GVSID1, 0x777, true, -1, mapped.getRef()));
    mapped.expectMessageClass(HostMmu.Mapped.class);
    TestProbe<HostMmu.UnmapReply> unmapped = kit.createTestProbe();
    mmu.tell(new HostMmu.UnmapPage(2, 0, g, false, unmapped.getRef()));
    HostMmu.TlbShootdown s = v0.receiveMessage();

    TestProbe<HostMmu.FlushReply> flushes = kit.createTestProbe();
    mmu.tell(new HostMmu.FlushVcpu(3, 0, flushes.getRef())); // stashed
    mmu.tell(new HostMmu.FlushVcpu(4, 0, flushes.getRef())); // stash full
    HostMmu.Rejected r = flushes.expectMessageClass(HostMmu.Rejected.class);
    assertThat(r.requestId()).isEqualTo(4);
    assertThat(r.reason()).startsWith("stash: full");

    s.ack().tell(new HostMmu.TlbShootdownAck(0, s.epoch()));
    unmapped.expectMessageClass(HostMmu.Unmapped.class);
    HostMmu.Flushed f = flushes.expectMessageClass(HostMmu.Flushed.class);
    assertThat(f.requestId()).isEqualTo(3);
  }
}
