package org.mmumesh.guestmmu.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmumesh.guestmmu.ActorFixtures.BASE;

import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.BehaviorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.guestmmu.ActorFixtures;
import org.mmumesh.guestmmu.Guest64;
import org.mmumesh.guestmmu.GuestMmuKind;
import org.mmumesh.guestmmu.GuestSetup;
import org.mmumesh.guestmmu.Hash32Mmu;
import org.mmumesh.guestmmu.ProtectionPolicy;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.guestmmu.XlateStatus;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.HostTlbie;

/** The GuestMmu actor's effects, synchronously (BehaviorTestKit). */
class GuestMmuBehaviorTest {

  @Test
  void setupWithAnSdr1OutsideGuestMemory_rejectsEveryRequestWithTheReason() {
    GuestSetup bad =
        new GuestSetup(
            GuestMmuKind.BOOK3S_32,
            0x10000000L,
            1 << 20,
            MmuOptions.defaults(Policy.FIXED),
            1,
            BASE,
            16,
            2,
            ProtectionPolicy.UPGRADE);
    TestInbox<HostTlbie> host = TestInbox.create();
    BehaviorTestKit<GuestMmu.Command> kit =
        BehaviorTestKit.create(GuestMmu.create(bad, host.getRef()));
    TestInbox<GuestMmu.XlateReply> replies = TestInbox.create();
    kit.run(new GuestMmu.Xlate(1, 0, BASE, Access.LOAD, true, replies.getRef()));
    GuestMmu.Rejected r = (GuestMmu.Rejected) replies.receiveMessage();
    assertThat(r.requestId()).isEqualTo(1);
    assertThat(r.reason()).startsWith("setup: sdr1: the HTAB").contains("does not fit");
    TestInbox<GuestMmu.ModeReply> modes = TestInbox.create();
    kit.run(new GuestMmu.GetMode(0, modes.getRef()));
    assertThat(modes.receiveMessage()).isInstanceOf(GuestMmu.Rejected.class);
    assertThat(host.hasMessages()).isFalse();
  }

  @Test
  void removeHpte_sendsTheTlbieToTheHost_andRepliesOnItsTlbieDone() {
    TestInbox<HostTlbie> host = TestInbox.create();
    BehaviorTestKit<GuestMmu.Command> kit =
        BehaviorTestKit.create(
            GuestMmu.create(ActorFixtures.setup32(), host.getRef(), Duration.ofSeconds(1)));
    TestInbox<GuestMmu.EnterReply> entered = TestInbox.create();
    kit.run(new GuestMmu.EnterHpte(1, 0, BASE, 3, 2, entered.getRef()));
    assertThat(((GuestMmu.HpteEntered) entered.receiveMessage()).pteAddr()).isNotNegative();

    TestInbox<GuestMmu.RemoveReply> removed = TestInbox.create();
    kit.run(new GuestMmu.RemoveHpte(2, 0, BASE, removed.getRef()));
    HostTlbie t = host.receiveMessage();
    assertThat(t.flush()).isEqualTo(new HostFlush.PteFlush(BASE, Hash32Mmu.TLBIE_MASK));
    assertThat(removed.hasMessages()).isFalse();
    kit.run(new GuestMmu.TlbieDone(t.requestId()));
    assertThat(removed.receiveMessage()).isEqualTo(new GuestMmu.HpteRemoved(2, true));
  }

  @Test
  void setSdr1_answersAtOnce_sendsNoTlbie_andXlateSearchesTheNewTable() {
    TestInbox<HostTlbie> host = TestInbox.create();
    BehaviorTestKit<GuestMmu.Command> kit =
        BehaviorTestKit.create(GuestMmu.create(ActorFixtures.setup64(), host.getRef()));
    long rs = Guest64.vsidOf(1) << 12;
    long rb = (1L << 28) | 0x08000000L;
    TestInbox<GuestMmu.StateReply> states = TestInbox.create();
    kit.run(
        new GuestMmu.SetVcpuState(
            1, 0, java.util.List.of(new VcpuStateChange.Slbmte(rs, rb)), states.getRef()));
    assertThat(states.receiveMessage()).isInstanceOf(GuestMmu.VcpuStateSet.class);
    TestInbox<GuestMmu.EnterReply> entered = TestInbox.create();
    kit.run(new GuestMmu.EnterHpte(2, 0, BASE, 9, 2, entered.getRef()));
    assertThat(((GuestMmu.HpteEntered) entered.receiveMessage()).pteAddr())
        .isBetween(0x01000000L, 0x0103FFF0L);

    kit.run(
        new GuestMmu.SetVcpuState(
            3, 0, java.util.List.of(new VcpuStateChange.SetSdr1(0x02000000L)), states.getRef()));
    assertThat(states.receiveMessage()).isInstanceOf(GuestMmu.VcpuStateSet.class);
    TestInbox<GuestMmu.XlateReply> x = TestInbox.create();
    kit.run(new GuestMmu.Xlate(4, 0, BASE, Access.LOAD, true, x.getRef()));
    assertThat(((GuestMmu.Translated) x.receiveMessage()).result().status())
        .isEqualTo(XlateStatus.ENOENT);
    kit.run(new GuestMmu.EnterHpte(5, 0, BASE, 9, 2, entered.getRef()));
    assertThat(((GuestMmu.HpteEntered) entered.receiveMessage()).pteAddr())
        .isBetween(0x02000000L, 0x0203FFF0L);
    assertThat(host.hasMessages()).isFalse();
  }
}
