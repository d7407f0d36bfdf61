package org.mmumesh.guestmmu.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmumesh.guestmmu.ActorFixtures.BASE;
import static org.mmumesh.guestmmu.ActorFixtures.setup32;
import static org.mmumesh.guestmmu.ActorFixtures.setup64;

import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.checkpoint.v1.GuestMmuEntityState;
import org.mmumesh.common.Access;
import org.mmumesh.common.FaultBits;
import org.mmumesh.guestmmu.ActorFixtures;
import org.mmumesh.guestmmu.GuestSetup;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.DumpHtab;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.HtabDumped;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.HtabReply;
import org.mmumesh.guestmmu.actor.GuestMmuCheckpointProtocol.CheckpointReply;
import org.mmumesh.guestmmu.actor.GuestMmuCheckpointProtocol.CheckpointState;
import org.mmumesh.guestmmu.actor.GuestMmuCheckpointProtocol.RestoreState;
import org.mmumesh.guestmmu.actor.GuestMmuCheckpointProtocol.StateCheckpoint;
import org.mmumesh.guestmmu.actor.GuestMmuCheckpointProtocol.StateRestored;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.ExceptionHandled;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.ExceptionReply;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.HandleException;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.HostTlbie;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.KernelEvents;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Rejected;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.SetVcpuState;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.StateReply;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.TlbieDone;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Translated;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.VcpuStateSet;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Xlate;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.XlateReply;

/**
 * CheckpointState / RestoreState of the GuestMmu entity (issue 13): checkpoint, restore into a
 * fresh entity, same bytes and same answers; refused away from a barrier and on a mismatch, with
 * nothing changed.
 */
class GuestMmuEntityCheckpointTest {
  private static final ActorTestKit KIT = ActorTestKit.create(ConfigFactory.load());

  private final TestProbe<HostTlbie> host = KIT.createTestProbe(HostTlbie.class);
  private final TestProbe<ExceptionReply> handled = KIT.createTestProbe(ExceptionReply.class);
  private final TestProbe<CheckpointReply> cps = KIT.createTestProbe(CheckpointReply.class);
  private final TestProbe<XlateReply> xlates = KIT.createTestProbe(XlateReply.class);
  private final TestProbe<HtabReply> dumps = KIT.createTestProbe(HtabReply.class);
  private final TestProbe<KernelEvents> events = KIT.createTestProbe(KernelEvents.class);
  private final TestProbe<StateReply> states = KIT.createTestProbe(StateReply.class);

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  private ActorRef<GuestMmu.Command> spawn(GuestSetup setup) {
    return KIT.spawn(GuestMmu.create(setup, host.getRef()));
  }

  private HandleException noHpte(long id, long ea) {
    return new HandleException(
        id, 0, FaultBits.VEC_DSI, FaultBits.DSISR_NOHPTE, 0, ea, handled.getRef());
  }

  private byte[] checkpoint(ActorRef<GuestMmu.Command> mmu) {
    mmu.tell(new CheckpointState(50, cps.getRef()));
    return ((StateCheckpoint) cps.receiveMessage()).state().bytes();
  }

  /**
   * 17 colliding pages demand-mapped on a 32-bit guest: the 17th evicts, the host acks its tlbie.
   */
  private ActorRef<GuestMmu.Command> busy32() {
    ActorRef<GuestMmu.Command> mmu = spawn(setup32());
    List<Long> eas = ActorFixtures.collidingEas(setup32(), 17);
    for (int i = 0; i < 16; i++) {
      mmu.tell(noHpte(100 + i, eas.get(i)));
      handled.expectMessage(new ExceptionHandled(100 + i, true, null, false));
    }
    mmu.tell(
        new SetVcpuState(
            3, 1, List.of(new VcpuStateChange.Mtsrin(5, 0x00000ABCL)), states.getRef()));
    states.expectMessageClass(VcpuStateSet.class);
    mmu.tell(noHpte(200, eas.get(16)));
    HostTlbie t = host.receiveMessage();
    // A flush awaits the host: not a barrier, both commands refused naming why.
    mmu.tell(new CheckpointState(1, cps.getRef()));
    assertThat(((Rejected) cps.receiveMessage()).reason())
        .startsWith("not at a barrier: 1 guest tlbie operation(s) awaiting");
    mmu.tell(new RestoreState(2, new byte[0], cps.getRef()));
    assertThat(((Rejected) cps.receiveMessage()).reason()).startsWith("not at a barrier");
    t.replyTo().tell(new TlbieDone(t.requestId()));
    handled.expectMessage(new ExceptionHandled(200, true, null, false));
    return mmu;
  }

  private List<Object> reads(ActorRef<GuestMmu.Command> mmu) {
    mmu.tell(new DumpHtab(7, dumps.getRef()));
    HtabDumped d = (HtabDumped) dumps.receiveMessage();
    mmu.tell(new GuestMmu.GetKernelEvents(events.getRef()));
    KernelEvents e = events.receiveMessage();
    List<Long> eas = ActorFixtures.collidingEas(setup32(), 17);
    mmu.tell(new Xlate(8, 0, eas.get(3), Access.LOAD, true, xlates.getRef()));
    Translated x0 = (Translated) xlates.receiveMessage();
    mmu.tell(new Xlate(9, 1, BASE + (5L << 28), Access.LOAD, false, xlates.getRef()));
    Translated x1 = (Translated) xlates.receiveMessage();
    return List.of(
        List.of(d.addrs().length, java.util.Arrays.toString(d.addrs())),
        java.util.Arrays.toString(d.words()),
        e,
        x0,
        x1);
  }

  @Test
  void checkpoint_restoredIntoAFreshEntity_givesTheSameBytesAndTheSameAnswers() throws Exception {
    ActorRef<GuestMmu.Command> original = busy32();
    byte[] state = checkpoint(original);
    GuestMmuEntityState parsed = GuestMmuEntityState.parseFrom(state);
    assertThat(parsed.getKernel().getHpteGuestRealAddrsCount()).isEqualTo(16);
    assertThat(parsed.getGuestEventCountersList()).anyMatch(c -> c > 0);

    ActorRef<GuestMmu.Command> copy = spawn(setup32());
    assertThat(checkpoint(copy)).isNotEqualTo(state);
    copy.tell(new RestoreState(3, state, cps.getRef()));
    cps.expectMessage(new StateRestored(3));
    assertThat(checkpoint(copy)).isEqualTo(state);
    assertThat(reads(copy)).isEqualTo(reads(original));

    // Continuation: the same next fault on both gives the same reply, flush and state.
    long ea = ActorFixtures.collidingEas(setup32(), 18).get(17);
    original.tell(noHpte(300, ea));
    HostTlbie a = host.receiveMessage();
    a.replyTo().tell(new TlbieDone(a.requestId()));
    ExceptionReply ra = handled.receiveMessage();
    copy.tell(noHpte(300, ea));
    HostTlbie b = host.receiveMessage();
    b.replyTo().tell(new TlbieDone(b.requestId()));
    assertThat(handled.receiveMessage()).isEqualTo(ra);
    assertThat(b.flush()).isEqualTo(a.flush());
    assertThat(checkpoint(copy)).isEqualTo(checkpoint(original));
  }

  @Test
  void restore_ofAnotherMmuKindOrGarbage_isRejectedNamingTheField_andChangesNothing()
      throws Exception {
    ActorRef<GuestMmu.Command> original = busy32();
    byte[] state32 = checkpoint(original);
    ActorRef<GuestMmu.Command> mmu64 = spawn(setup64());
    byte[] before = checkpoint(mmu64);

    mmu64.tell(new RestoreState(4, state32, cps.getRef()));
    assertThat(((Rejected) cps.receiveMessage()).reason()).contains("mmu_kind");
    mmu64.tell(new RestoreState(5, new byte[] {1, 2, 3}, cps.getRef()));
    assertThat(((Rejected) cps.receiveMessage()).reason())
        .startsWith("state: not a GuestMmuEntityState");
    byte[] noCounters =
        GuestMmuEntityState.newBuilder()
            .mergeFrom(before)
            .clearGuestEventCounters()
            .addGuestEventCounters(1)
            .build()
            .toByteArray();
    mmu64.tell(new RestoreState(6, noCounters, cps.getRef()));
    assertThat(((Rejected) cps.receiveMessage()).reason()).contains("guest_event_counters");
    assertThat(checkpoint(mmu64)).isEqualTo(before);

    // A kernel part that does not fit, after a guest part that does: still nothing changed.
    byte[] badKernel =
        GuestMmuEntityState.newBuilder()
            .mergeFrom(before)
            .setKernel(
                GuestMmuEntityState.newBuilder().mergeFrom(before).getKernel().toBuilder()
                    .setWindowPages(3))
            .build()
            .toByteArray();
    mmu64.tell(new RestoreState(7, badKernel, cps.getRef()));
    assertThat(((Rejected) cps.receiveMessage()).reason()).contains("window_pages");
    assertThat(checkpoint(mmu64)).isEqualTo(before);
  }
}
