package org.mmumesh.hostmmu.actor;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.HostFlush;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.HostMmuConfig;
import org.mmumesh.pageframe.actor.PageFrame;

/**
 * The protocol adapters between the host MMU and its neighbours ({@link TlbieAdapter}, {@link
 * NotifierAdapter}), against probes standing for the actors on either side, and the notifier
 * adapter in front of a real {@link HostMmu}.
 */
class HostMmuAdaptersTest {
  private static final ActorTestKit kit = ActorTestKit.create(ConfigFactory.load());
  private static final Duration QUIET = Duration.ofMillis(100);

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  @Test
  void notifierAdapter_acksOnlyAfterTheHostMmuAcked_withQ8FullFlush() {
    TestProbe<HostMmu.Command> host = kit.createTestProbe();
    TestProbe<PageFrame.NotifierAck> frames = kit.createTestProbe();
    ActorRef<PageFrame.NotifierEvent> a =
        kit.spawn(NotifierAdapter.create(host.getRef(), 3, true)).narrow();
    a.tell(new PageFrame.NotifierEvent(3, 0x10, 0x11, 42, frames.getRef()));
    HostMmu.NotifierInvalidate inv = host.expectMessageClass(HostMmu.NotifierInvalidate.class);
    assertThat(inv.gfnStart()).isEqualTo(0x10);
    assertThat(inv.gfnEnd()).isEqualTo(0x11);
    assertThat(inv.notifierSeq()).isEqualTo(42);
    assertThat(inv.fullFlush()).isTrue();
    frames.expectNoMessage(QUIET);
    inv.replyTo().tell(new HostMmu.NotifierAcked(42, 3, 7));
    frames.expectMessage(new PageFrame.NotifierAck(3, 42));
  }

  @Test
  void notifierAdapter_aliasedSlots_oneSeqTwoRanges_acksEachRange() {
    // Two memslots backed by the same host pages: one invalidation (one seq) reaches the VM as one
    // event per gfn range, and the page frames wait for an ack of each (found by the gateway fuzz).
    TestProbe<HostMmu.Command> host = kit.createTestProbe();
    TestProbe<PageFrame.NotifierAck> frames = kit.createTestProbe();
    ActorRef<PageFrame.NotifierEvent> a =
        kit.spawn(NotifierAdapter.create(host.getRef(), 3, false)).narrow();
    a.tell(new PageFrame.NotifierEvent(3, 0x88, 0x89, 50, frames.getRef()));
    a.tell(new PageFrame.NotifierEvent(3, 0x540, 0x541, 50, frames.getRef()));
    HostMmu.NotifierInvalidate first = host.expectMessageClass(HostMmu.NotifierInvalidate.class);
    HostMmu.NotifierInvalidate second = host.expectMessageClass(HostMmu.NotifierInvalidate.class);
    assertThat(first.gfnStart()).isEqualTo(0x88);
    assertThat(second.gfnStart()).isEqualTo(0x540);
    assertThat(first.fullFlush()).isFalse();
    first.replyTo().tell(new HostMmu.NotifierAcked(50, 1, 7));
    frames.expectMessage(new PageFrame.NotifierAck(3, 50));
    second.replyTo().tell(new HostMmu.NotifierAcked(50, 1, 8));
    frames.expectMessage(new PageFrame.NotifierAck(3, 50));
    frames.expectNoMessage(QUIET);
  }

  @Test
  void notifierAdapter_aliasedSlots_realHostMmu_bothEventsOfOneSeqAreAcked() {
    // The same double event in front of a real HostMmu (no vCPU subscribed: each invalidation is
    // acknowledged at once). Keyed by seq alone, the adapter answered the page frames once and the
    // second event's ack was lost: the frames then waited for their ack timeout.
    ActorRef<HostMmu.Command> mmu = kit.spawn(HostMmu.create(HostMmuConfig.host64(1)));
    TestProbe<PageFrame.NotifierAck> frames = kit.createTestProbe();
    ActorRef<PageFrame.NotifierEvent> a = kit.spawn(NotifierAdapter.create(mmu, 4, false)).narrow();
    a.tell(new PageFrame.NotifierEvent(4, 0x88, 0x89, 51, frames.getRef()));
    a.tell(new PageFrame.NotifierEvent(4, 0x540, 0x541, 51, frames.getRef()));
    a.tell(new PageFrame.NotifierEvent(4, 0x90, 0x91, 52, frames.getRef()));
    assertThat(frames.receiveSeveralMessages(3))
        .containsExactlyInAnyOrder(
            new PageFrame.NotifierAck(4, 51),
            new PageFrame.NotifierAck(4, 51),
            new PageFrame.NotifierAck(4, 52));
    frames.expectNoMessage(QUIET);
  }

  @Test
  void notifierAdapter_hostMmuFailed_stillAcks_rejectedDoesNot() {
    TestProbe<HostMmu.Command> host = kit.createTestProbe();
    TestProbe<PageFrame.NotifierAck> frames = kit.createTestProbe();
    ActorRef<PageFrame.NotifierEvent> a =
        kit.spawn(NotifierAdapter.create(host.getRef(), 5, false)).narrow();
    a.tell(new PageFrame.NotifierEvent(5, 1, 2, 60, frames.getRef()));
    a.tell(new PageFrame.NotifierEvent(5, 3, 4, 61, frames.getRef()));
    HostMmu.NotifierInvalidate first = host.expectMessageClass(HostMmu.NotifierInvalidate.class);
    HostMmu.NotifierInvalidate second = host.expectMessageClass(HostMmu.NotifierInvalidate.class);
    second.replyTo().tell(new HostMmu.Rejected(61, "gfnEnd: must be > gfnStart"));
    frames.expectNoMessage(QUIET);
    first.replyTo().tell(new HostMmu.Failed(60, "core threw"));
    frames.expectMessage(new PageFrame.NotifierAck(5, 60));
    frames.expectNoMessage(QUIET);
  }

  @Test
  void tlbieAdapter_answersTlbieDoneOnlyWhenFlushed() {
    TestProbe<HostMmu.Command> host = kit.createTestProbe();
    TestProbe<GuestMmu.TlbieDone> guest = kit.createTestProbe();
    ActorRef<GuestMmu.HostTlbie> a = kit.spawn(TlbieAdapter.create(host.getRef())).narrow();
    HostFlush f = new HostFlush.PteFlush(0x1000, 0x0FFFF000L);
    a.tell(new GuestMmu.HostTlbie(9, f, guest.getRef()));
    HostMmu.GuestTlbie t = host.expectMessageClass(HostMmu.GuestTlbie.class);
    assertThat(t.requestId()).isEqualTo(9);
    assertThat(t.flush()).isEqualTo(f);
    t.replyTo().tell(new HostMmu.Failed(9, "boom"));
    guest.expectNoMessage(QUIET);
    t.replyTo().tell(new HostMmu.Flushed(9, 2, 5));
    guest.expectMessage(new GuestMmu.TlbieDone(9));
  }

  @Test
  void tlbieAdapter_realHostMmu_answersTheGuestAfterTheFlush() {
    ActorRef<HostMmu.Command> mmu = kit.spawn(HostMmu.create(HostMmuConfig.host64(1)));
    TestProbe<GuestMmu.TlbieDone> guest = kit.createTestProbe();
    ActorRef<GuestMmu.HostTlbie> a = kit.spawn(TlbieAdapter.create(mmu)).narrow();
    a.tell(new GuestMmu.HostTlbie(11, new HostFlush.PteFlush(0x2000, 0x0FFFF000L), guest.getRef()));
    guest.expectMessage(new GuestMmu.TlbieDone(11));
  }
}
