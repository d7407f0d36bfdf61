package org.mmumesh.vcpu.actor;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.Test;
import org.mmumesh.hostmmu.actor.HostMmu;

/** {@link HostLink}: the vCPU's known TLB epoch, KVM_REQ_TLB_FLUSH and shootdown subscription. */
class HostLinkTest {
  private final TestInbox<HostMmu.Command> host = TestInbox.create();
  private final TestInbox<HostMmu.TlbShootdown> shootdowns = TestInbox.create();
  private final TestInbox<HostMmu.TlbShootdownAck> acks = TestInbox.create();

  private HostLink link(long epoch) {
    return new HostLink(3, host.getRef(), shootdowns.getRef(), epoch, false);
  }

  @Test
  void noteEpoch_movesUp_andAnOlderOneResubscribesWithTheKnownEpoch() {
    HostLink l = link(5);
    assertThat(l.noteEpoch(7)).isTrue();
    assertThat(l.knownEpoch()).isEqualTo(7);
    assertThat(l.noteEpoch(7)).isTrue();
    assertThat(host.hasMessages()).isFalse();
    assertThat(l.noteEpoch(6)).isFalse(); // the HostMmu restarted (or a reordering)
    assertThat(l.knownEpoch()).isEqualTo(7);
    assertThat(host.receiveMessage())
        .isEqualTo(new HostMmu.SubscribeTlb(3, 7, shootdowns.getRef()));
  }

  @Test
  void theAnswerToASubscription_isNotCounted_butLaterShootdownsAre() {
    HostLink l = link(0);
    l.subscribe(0);
    host.receiveMessage();
    assertThat(l.onShootdown(new HostMmu.TlbShootdown(2, acks.getRef(), false)))
        .isEqualTo(HostLink.Shootdown.SUBSCRIBED);
    assertThat(l.onShootdown(new HostMmu.TlbShootdown(3, acks.getRef(), true)))
        .isEqualTo(HostLink.Shootdown.COUNTED);
    assertThat(l.knownEpoch()).isEqualTo(3);
    assertThat(l.pendingFlush).isTrue(); // kvm_flush_remote_tlbs: KVM_REQ_TLB_FLUSH
  }

  @Test
  void aSubscriptionAnsweredWithAnOlderEpoch_meansTheHostMmuRestarted() {
    HostLink l = link(9); // a vCPU restored from parking
    l.subscribe(9);
    host.receiveMessage();
    assertThat(l.onShootdown(new HostMmu.TlbShootdown(1, acks.getRef(), false)))
        .isEqualTo(HostLink.Shootdown.RESTARTED);
    assertThat(host.receiveMessage())
        .isEqualTo(new HostMmu.SubscribeTlb(3, 9, shootdowns.getRef()));
    assertThat(l.pendingFlush).isFalse();
  }
}
