package org.mmumesh.guestmmu.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmumesh.guestmmu.ActorFixtures.BASE;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.FaultBits;
import org.mmumesh.guestmmu.ActorFixtures;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.guestmmu.XlateResult;
import org.mmumesh.guestmmu.XlateStatus;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.DumpHtab;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.EnterHpte;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.EnterReply;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.HpteEntered;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.HtabDumped;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.HtabReply;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.EsidToVsid;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.ExceptionHandled;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.ExceptionReply;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.HandleException;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.HostTlbie;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Rejected;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.SetVcpuState;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.StateReply;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Translated;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.VcpuStateSet;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.VsidOf;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.VsidReply;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.Xlate;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.XlateReply;

/**
 * {@code mtspr SDR1} through the GuestMmu actor ({@link VcpuStateChange.SetSdr1}): per vCPU, all or
 * nothing with the other changes, refused with a reason naming {@code sdr1}.
 */
class GuestMmuSdr1Test {
  private static final ActorTestKit KIT = ActorTestKit.create(ConfigFactory.load());
  private static final Duration QUIET = Duration.ofMillis(200);

  /** setup32's table: 64 KiB at 1 MiB; the other one: 64 KiB at 2 MiB. */
  private static final long OLD = 0x00100000L;

  private static final long NEW = 0x00200000L;

  private final TestProbe<HostTlbie> host = KIT.createTestProbe(HostTlbie.class);
  private final TestProbe<StateReply> states = KIT.createTestProbe(StateReply.class);
  private final TestProbe<XlateReply> xlates = KIT.createTestProbe(XlateReply.class);
  private final TestProbe<EnterReply> entered = KIT.createTestProbe(EnterReply.class);
  private long ids = 100;

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  private ActorRef<GuestMmu.Command> spawn() {
    return KIT.spawn(GuestMmu.create(ActorFixtures.setup32(), host.getRef()));
  }

  private StateReply set(ActorRef<GuestMmu.Command> mmu, int vcpu, VcpuStateChange... changes) {
    mmu.tell(new SetVcpuState(ids++, vcpu, List.of(changes), states.getRef()));
    return states.receiveMessage();
  }

  private XlateResult xlate(ActorRef<GuestMmu.Command> mmu, int vcpu, long ea) {
    mmu.tell(new Xlate(ids++, vcpu, ea, Access.LOAD, true, xlates.getRef()));
    return ((Translated) xlates.receiveMessage()).result();
  }

  private long enter(ActorRef<GuestMmu.Command> mmu, int vcpu, long ea, long gfn) {
    mmu.tell(new EnterHpte(ids++, vcpu, ea, gfn, 2, entered.getRef()));
    return entered.expectMessageClass(HpteEntered.class).pteAddr();
  }

  @Test
  void setSdr1_movesThatVcpusXlateAndInserts_andSwitchingBackFindsTheOldEntry() {
    ActorRef<GuestMmu.Command> mmu = spawn();
    assertThat(enter(mmu, 0, BASE, 3)).isBetween(OLD, OLD + 0xFFF8);
    assertThat(set(mmu, 0, new VcpuStateChange.SetSdr1(NEW))).isInstanceOf(VcpuStateSet.class);

    assertThat(xlate(mmu, 0, BASE).status()).isEqualTo(XlateStatus.ENOENT);
    assertThat(xlate(mmu, 1, BASE).pte().gfn()).isEqualTo(3); // vCPU 1 kept its SDR1
    assertThat(enter(mmu, 0, BASE, 4)).isBetween(NEW, NEW + 0xFFF8);
    assertThat(xlate(mmu, 0, BASE).pte().gfn()).isEqualTo(4);

    assertThat(set(mmu, 0, new VcpuStateChange.SetSdr1(OLD))).isInstanceOf(VcpuStateSet.class);
    assertThat(xlate(mmu, 0, BASE).pte().gfn()).isEqualTo(3);
    host.expectNoMessage(QUIET); // the guest MMU flushes nothing itself: the Vcpu does
  }

  @Test
  void guestKernelFault_onAMovedVcpu_demandMapsIntoItsNewTable() {
    ActorRef<GuestMmu.Command> mmu = spawn();
    set(mmu, 1, new VcpuStateChange.SetSdr1(NEW));
    long ea = BASE + 0x7000;
    TestProbe<ExceptionReply> handled = KIT.createTestProbe(ExceptionReply.class);
    mmu.tell(
        new HandleException(
            ids++, 1, FaultBits.VEC_DSI, FaultBits.DSISR_NOHPTE, 0, ea, handled.getRef()));
    assertThat(handled.expectMessageClass(ExceptionHandled.class).retry()).isTrue();
    assertThat(xlate(mmu, 1, ea).pte().gfn()).isEqualTo(7);
    assertThat(xlate(mmu, 0, ea).status()).isEqualTo(XlateStatus.ENOENT);
    TestProbe<HtabReply> dump = KIT.createTestProbe(HtabReply.class);
    mmu.tell(new DumpHtab(ids++, dump.getRef()));
    long[] addrs = dump.expectMessageClass(HtabDumped.class).addrs();
    assertThat(addrs).hasSize(2); // word 0 and word 1 of the one HPTE, in the new table
    assertThat(addrs[0]).isBetween(NEW, NEW + 0xFFF8);
  }

  @Test
  void badSdr1_isRejectedNamingIt_andNothingOfTheSameRequestChanges() {
    ActorRef<GuestMmu.Command> mmu = spawn();
    enter(mmu, 0, BASE, 3);
    TestProbe<VsidReply> vsids = KIT.createTestProbe(VsidReply.class);
    mmu.tell(new EsidToVsid(1, 0, 3, vsids.getRef()));
    long vsid = vsids.expectMessageClass(VsidOf.class).gvsid();

    StateReply r =
        set(
            mmu,
            0,
            new VcpuStateChange.Mtsrin(3, 0x00000ABCL),
            new VcpuStateChange.SetSdr1(0x00110001L)); // 128 KiB at a 64 KiB boundary
    assertThat(((Rejected) r).reason()).startsWith("changes[1] sdr1.HTABORG: ");
    mmu.tell(new EsidToVsid(2, 0, 3, vsids.getRef()));
    assertThat(vsids.expectMessageClass(VsidOf.class).gvsid()).isEqualTo(vsid);

    assertThat(((Rejected) set(mmu, 0, new VcpuStateChange.SetSdr1(0))).reason())
        .startsWith("changes[0] sdr1: 0 is refused")
        .contains("allowed:");
    assertThat(((Rejected) set(mmu, 0, new VcpuStateChange.SetSdr1(0x04000000L))).reason())
        .startsWith("changes[0] sdr1: the HTAB [0x4000000, 0x4010000) does not fit")
        .contains("allowed: it must end at or below 0x4000000");
    assertThat(((Rejected) set(mmu, 5, new VcpuStateChange.SetSdr1(NEW))).reason())
        .startsWith("vcpu");
    assertThat(xlate(mmu, 0, BASE).pte().gfn()).isEqualTo(3);
  }
}
