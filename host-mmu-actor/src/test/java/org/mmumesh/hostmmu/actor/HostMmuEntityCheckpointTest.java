package org.mmumesh.hostmmu.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmumesh.hostmmu.actor.HostMmuFixtures.GVSID1;
import static org.mmumesh.hostmmu.actor.HostMmuFixtures.GVSID2;
import static org.mmumesh.hostmmu.actor.HostMmuFixtures.pte;

import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.checkpoint.v1.HostMmuEntityState;
import org.mmumesh.common.GuestPte;
import org.mmumesh.hostmmu.HostMmuConfig;
import org.mmumesh.hostmmu.actor.HostMmuCheckpointProtocol.CheckpointReply;
import org.mmumesh.hostmmu.actor.HostMmuCheckpointProtocol.CheckpointState;
import org.mmumesh.hostmmu.actor.HostMmuCheckpointProtocol.RestoreState;
import org.mmumesh.hostmmu.actor.HostMmuCheckpointProtocol.StateCheckpoint;
import org.mmumesh.hostmmu.actor.HostMmuCheckpointProtocol.StateRestored;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.Command;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.DumpShadow;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.GetStats;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.LookedUp;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.LookupReply;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.MapPage;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.MapReply;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.Mapped;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.NotifierAcked;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.NotifierInvalidate;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.NotifierReply;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.Rejected;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.ShadowDumped;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.StatsReply;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.SubscribeTlb;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.TlbShootdown;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.TlbShootdownAck;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.UnmapPage;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.UnmapReply;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.Unmapped;

/**
 * CheckpointState / RestoreState of the HostMmu entity (issue 13): checkpoint, restore into a fresh
 * entity, the same bytes and the same answers (lookups, shadow dump, counters, the pending Q8 flush
 * request a re-subscribing vCPU is told); refused during a shootdown and on a mismatch, with
 * nothing changed.
 */
class HostMmuEntityCheckpointTest {
  private static final ActorTestKit KIT = ActorTestKit.create(ConfigFactory.load());
  private final AtomicLong ids = new AtomicLong(1);
  private final TestProbe<CheckpointReply> cps = KIT.createTestProbe();

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  private ActorRef<Command> spawn(int vcpus) {
    return KIT.spawn(HostMmu.create(HostMmuConfig.host64(vcpus)));
  }

  private byte[] checkpoint(ActorRef<Command> mmu) {
    mmu.tell(new CheckpointState(ids.getAndIncrement(), cps.getRef()));
    return ((StateCheckpoint) cps.receiveMessage()).state().bytes();
  }

  private Mapped map(ActorRef<Command> mmu, int vcpu, GuestPte pte, long gvsid, int pfn) {
    TestProbe<MapReply> p = KIT.createTestProbe();
    mmu.tell(new MapPage(ids.getAndIncrement(), vcpu, pte, gvsid, pfn, true, -1, p.getRef()));
    return p.expectMessageClass(Mapped.class);
  }

  private static final long[] EAS = {0x10005000L, 0x10006000L, 0x2000A000L, 0x10007000L};

  /** The answers an equal state gives: lookups of every mapped page, dump, counters. */
  private List<Object> reads(ActorRef<Command> mmu) {
    List<Object> out = new ArrayList<>();
    TestProbe<LookupReply> l = KIT.createTestProbe();
    for (int v = 0; v < 2; v++) {
      for (long ea : EAS) {
        mmu.tell(new HostMmu.Lookup(1, v, v == 0 ? GVSID1 : GVSID2, ea, l.getRef()));
        out.add(l.expectMessageClass(LookedUp.class));
      }
    }
    TestProbe<ShadowDumped> d = KIT.createTestProbe();
    mmu.tell(new DumpShadow(d.getRef()));
    out.add(d.receiveMessage());
    TestProbe<StatsReply> s = KIT.createTestProbe();
    mmu.tell(new GetStats(s.getRef()));
    StatsReply st = s.receiveMessage();
    out.add(List.of(st.counters(), st.epoch(), st.latestNotifierSeq()));
    return out;
  }

  /** Maps, unmaps (a shootdown the checkpoint must wait for) and a Q8 notifier. */
  private ActorRef<Command> busy() {
    ActorRef<Command> mmu = spawn(2);
    TestProbe<TlbShootdown> vcpu0 = KIT.createTestProbe();
    mmu.tell(new SubscribeTlb(0, vcpu0.getRef()));
    vcpu0.expectMessageClass(TlbShootdown.class);
    for (int i = 0; i < EAS.length; i++) {
      map(mmu, 0, pte(GVSID1, EAS[i], 0xAB000L + (i << 12), true), GVSID1, 0x700 + i);
      map(mmu, 1, pte(GVSID2, EAS[i], 0xCD000L + (i << 12), true), GVSID2, 0x800 + i);
    }
    TestProbe<UnmapReply> u = KIT.createTestProbe();
    mmu.tell(new UnmapPage(99, 0, pte(GVSID1, EAS[1], 0xAC000L, true), false, u.getRef()));
    TlbShootdown sd = vcpu0.expectMessageClass(TlbShootdown.class);
    mmu.tell(new CheckpointState(1, cps.getRef()));
    assertThat(((Rejected) cps.receiveMessage()).reason())
        .isEqualTo("not at a barrier: a TLB shootdown is in flight");
    sd.ack().tell(new TlbShootdownAck(0, sd.epoch()));
    u.expectMessageClass(Unmapped.class);

    TestProbe<NotifierReply> n = KIT.createTestProbe();
    mmu.tell(new NotifierInvalidate(0x800, 0x801, 5, true, n.getRef()));
    TlbShootdown q8 = vcpu0.expectMessageClass(TlbShootdown.class);
    assertThat(q8.flushRequested()).isTrue();
    q8.ack().tell(new TlbShootdownAck(0, q8.epoch()));
    n.expectMessageClass(NotifierAcked.class);
    return mmu;
  }

  @Test
  void checkpoint_restoredIntoAFreshEntity_givesTheSameBytesAndTheSameAnswers() throws Exception {
    ActorRef<Command> original = busy();
    byte[] state = checkpoint(original);
    HostMmuEntityState parsed = HostMmuEntityState.parseFrom(state);
    assertThat(parsed.getFlushRequestedList()).containsExactly(true, true);
    assertThat(parsed.getEpoch()).isGreaterThan(HostMmu.FIRST_EPOCH);
    assertThat(parsed.getGuard().getLatestSeq()).isEqualTo(5);

    ActorRef<Command> copy = spawn(2);
    assertThat(checkpoint(copy)).isNotEqualTo(state);
    copy.tell(new RestoreState(7, state, cps.getRef()));
    cps.expectMessage(new StateRestored(7));
    assertThat(checkpoint(copy)).isEqualTo(state);
    assertThat(reads(copy)).isEqualTo(reads(original));

    // A vCPU subscribing to the copy is told the restored epoch and its pending Q8 flush.
    TestProbe<TlbShootdown> vcpu1 = KIT.createTestProbe();
    copy.tell(new SubscribeTlb(1, vcpu1.getRef()));
    TlbShootdown welcome = vcpu1.expectMessageClass(TlbShootdown.class);
    assertThat(welcome.epoch()).isEqualTo(parsed.getEpoch());
    assertThat(welcome.flushRequested()).isTrue();

    // Continuation: the same map on both gives the same reply and the same state after.
    GuestPte next = pte(GVSID2, 0x3000B000L, 0xEE000L, true);
    Mapped a = map(original, 1, next, GVSID2, 0x900);
    TestProbe<MapReply> p = KIT.createTestProbe();
    copy.tell(new MapPage(ids.getAndIncrement(), 1, next, GVSID2, 0x900, true, -1, p.getRef()));
    Mapped b = p.expectMessageClass(Mapped.class);
    assertThat(b)
        .isEqualTo(
            new Mapped(b.requestId(), a.installed(), a.readOnly(), a.markDirty(), a.epoch()));
    assertThat(HostMmuEntityState.parseFrom(checkpoint(copy)).getCore())
        .isEqualTo(HostMmuEntityState.parseFrom(checkpoint(original)).getCore());
  }

  @Test
  void restore_ofAnotherShapeOrGarbage_isRejectedNamingTheField_andChangesNothing()
      throws Exception {
    byte[] twoVcpus = checkpoint(busy());
    ActorRef<Command> one = spawn(1);
    map(one, 0, pte(GVSID1, EAS[0], 0xAB000L, true), GVSID1, 0x700);
    byte[] before = checkpoint(one);

    one.tell(new RestoreState(8, twoVcpus, cps.getRef()));
    assertThat(((Rejected) cps.receiveMessage()).reason()).contains("flush_requested length");
    one.tell(new RestoreState(9, new byte[] {1, 2, 3}, cps.getRef()));
    assertThat(((Rejected) cps.receiveMessage()).reason())
        .startsWith("state: not a HostMmuEntityState");
    byte[] epochZero =
        HostMmuEntityState.parseFrom(before).toBuilder().setEpoch(0).build().toByteArray();
    one.tell(new RestoreState(10, epochZero, cps.getRef()));
    assertThat(((Rejected) cps.receiveMessage()).reason()).contains("epoch");
    byte[] otherCore =
        HostMmuEntityState.parseFrom(before).toBuilder()
            .setCore(HostMmuEntityState.parseFrom(twoVcpus).getCore())
            .build()
            .toByteArray();
    one.tell(new RestoreState(11, otherCore, cps.getRef()));
    assertThat(((Rejected) cps.receiveMessage()).reason()).isNotBlank();
    assertThat(checkpoint(one)).isEqualTo(before);
  }
}
