package org.mmumesh.hostmmu.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmumesh.hostmmu.actor.HostMmuFixtures.GVSID1;
import static org.mmumesh.hostmmu.actor.HostMmuFixtures.pte;

import org.apache.pekko.actor.testkit.typed.Effect;
import org.apache.pekko.actor.testkit.typed.javadsl.BehaviorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.GuestPte;
import org.mmumesh.hostmmu.HostHtab;
import org.mmumesh.hostmmu.HostMmuConfig;

/** Effects of single messages, synchronously (BehaviorTestKit). */
class HostMmuBehaviorTest {

  @Test
  void subscribe_watchesTheVcpu_andSendsTheCurrentEpoch() {
    BehaviorTestKit<HostMmu.Command> t =
        BehaviorTestKit.create(HostMmu.create(HostMmuConfig.host64(1)));
    TestInbox<HostMmu.TlbShootdown> vcpu = TestInbox.create();
    t.run(new HostMmu.SubscribeTlb(0, vcpu.getRef()));
    assertThat(t.expectEffectClass(Effect.Watched.class).other()).isEqualTo(vcpu.getRef());
    assertThat(vcpu.receiveMessage().epoch()).isEqualTo(HostMmu.FIRST_EPOCH);
  }

  @Test
  void unmap_sendsTheShootdown_startsTheTimer_andHoldsTheReply_untilTheAck() {
    BehaviorTestKit<HostMmu.Command> t =
        BehaviorTestKit.create(HostMmu.create(HostMmuConfig.host64(1)));
    TestInbox<HostMmu.TlbShootdown> vcpu = TestInbox.create();
    t.run(new HostMmu.SubscribeTlb(0, vcpu.getRef()));
    vcpu.receiveMessage();
    GuestPte g = pte(GVSID1, 0x10005000L, 0xAB000L, true);
    TestInbox<HostMmu.MapReply> mapped = TestInbox.create();
    t.run(new HostMmu.MapPage(1, 0, g, GVSID1, 0x777, true, -1, mapped.getRef()));
    assertThat(mapped.receiveMessage()).isInstanceOf(HostMmu.Mapped.class);
    assertThat(vcpu.hasMessages()).isFalse();
    t.clearLog();
    t.getAllEffects();

    TestInbox<HostMmu.UnmapReply> reply = TestInbox.create();
    t.run(new HostMmu.UnmapPage(2, 0, g, false, reply.getRef()));
    HostMmu.TlbShootdown s = vcpu.receiveMessage();
    assertThat(s.epoch()).isEqualTo(HostMmu.FIRST_EPOCH + 1);
    assertThat(t.expectEffectClass(Effect.TimerScheduled.class).msg().toString())
        .contains("ShootdownTimedOut");
    assertThat(reply.hasMessages()).isFalse();

    t.run(new HostMmu.TlbShootdownAck(0, s.epoch()));
    assertThat(reply.receiveMessage()).isEqualTo(new HostMmu.Unmapped(2, 1, s.epoch()));
    assertThat(t.expectEffectClass(Effect.TimerCancelled.class)).isNotNull();
  }

  @Test
  void mapThatEvictsOrFlushes_isAcknowledgedOnlyAfterTheShootdown() {
    // 2^11 PTEGs: the HTAB's 16-slot group pairs overflow long before 32768 cache entries.
    HostMmuConfig cfg = HostMmuConfig.host64(1).withPtegCount(HostHtab.MIN_PTEGS_64);
    BehaviorTestKit<HostMmu.Command> t = BehaviorTestKit.create(HostMmu.create(cfg));
    TestInbox<HostMmu.TlbShootdown> vcpu = TestInbox.create();
    t.run(new HostMmu.SubscribeTlb(0, vcpu.getRef()));
    long epoch = vcpu.receiveMessage().epoch();
    TestInbox<HostMmu.MapReply> reply = TestInbox.create();
    int i = 0;
    while (!vcpu.hasMessages() && i < 40_000) {
      GuestPte g = pte(GVSID1, 0x10000000L + ((long) i << 12), (long) i << 12, true);
      t.run(new HostMmu.MapPage(i, 0, g, GVSID1, i + 1, true, -1, reply.getRef()));
      if (!vcpu.hasMessages()) {
        assertThat(reply.receiveMessage())
            .isEqualTo(new HostMmu.Mapped(i, true, false, true, epoch));
      }
      i++;
    }
    HostMmu.TlbShootdown s = vcpu.receiveMessage();
    assertThat(s.epoch()).isEqualTo(epoch + 1);
    assertThat(reply.hasMessages()).isFalse();
    t.run(new HostMmu.TlbShootdownAck(0, s.epoch()));
    assertThat(reply.receiveMessage())
        .isEqualTo(new HostMmu.Mapped(i - 1, true, false, true, s.epoch()));
  }
}
