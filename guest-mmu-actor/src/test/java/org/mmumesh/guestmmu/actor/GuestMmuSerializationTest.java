package org.mmumesh.guestmmu.actor;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.util.EnumSet;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.GuestPte;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.PageSize;
import org.mmumesh.common.Policy;
import org.mmumesh.common.Quirk;
import org.mmumesh.guestmmu.ActorFixtures;
import org.mmumesh.guestmmu.GuestMmuKind;
import org.mmumesh.guestmmu.GuestSetup;
import org.mmumesh.guestmmu.ProtectionPolicy;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.guestmmu.XlateResult;
import org.mmumesh.guestmmu.XlateStatus;
import org.mmumesh.guestmmu.actor.GuestHtabProtocol.*;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.*;

/** Every command, reply and host-bound message of the GuestMmu protocol through Jackson CBOR. */
class GuestMmuSerializationTest {
  private static final ActorTestKit KIT = ActorTestKit.create(ConfigFactory.load());

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  private static <T> ActorRef<T> ref(Class<T> type) {
    return KIT.createTestProbe(type).getRef();
  }

  @Test
  void everyMessage_roundTripsThroughTheSerializer() {
    assertThat(KIT.system().settings().config().getBoolean("pekko.actor.serialize-messages"))
        .isTrue();
    XlateResult ok =
        new XlateResult(
            XlateStatus.OK,
            new GuestPte(0x10005008L, 0x123456L, 0x1234008L, true, false, true, PageSize.SIZE_64K),
            XlateResult.R,
            XlateResult.R | XlateResult.C);
    List<Object> messages =
        List.of(
            new Xlate(1, 0, 0xFFFFFFFFFFFFF000L, Access.IFETCH, true, ref(XlateReply.class)),
            new Translated(1, ok, 0x1001L),
            new Translated(2, null, -1L),
            new Translated(3, new XlateResult(XlateStatus.ENOENT, null, -1, -1), 7),
            new HandleException(2, 1, 0x300, 0x40000000L, 0, 0x1000, ref(ExceptionReply.class)),
            new ExceptionHandled(2, true, null, true),
            new ExceptionHandled(3, false, "protection fault at ea 0x1000", false),
            new EsidToVsid(3, 0, 15, ref(VsidReply.class)),
            new VsidOf(3, 0x4000000000000123L),
            new GetMode(1, ref(ModeReply.class)),
            new ModeOf(7),
            new EnterHpte(4, 0, 0x10000000L, 0x777, 2, ref(EnterReply.class)),
            new HpteEntered(4, 0x109980L),
            new HpteEntered(5, -1),
            new RemoveHpte(6, 1, 0x10000000L, ref(RemoveReply.class)),
            new HpteRemoved(6, true),
            new ReadRc(7, 0, 0x10000000L, ref(RcReply.class)),
            new RcOf(7, true, false),
            new GetKernelEvents(ref(KernelEvents.class)),
            new KernelEvents(1, 2, 3, 4, 5),
            new GuestMmu.DumpHtab(12, ref(GuestMmu.HtabReply.class)),
            new GuestMmu.HtabDumped(12, new long[] {0x109980L}, new long[] {-1L}),
            new TlbieDone(8),
            new GuestMmuCheckpointProtocol.CheckpointState(15, ref(GuestMmu.CheckpointReply.class)),
            new GuestMmuCheckpointProtocol.StateCheckpoint(15, new byte[] {1, 0, -1}),
            new GuestMmuCheckpointProtocol.RestoreState(
                16, new byte[] {8, 2}, ref(GuestMmu.CheckpointReply.class)),
            new GuestMmuCheckpointProtocol.StateRestored(16),
            new ClearRc(13, 1, 0x10000000L, false, true, ref(RcReply.class)),
            new SetVcpuState(
                14,
                0,
                List.of(
                    new VcpuStateChange.Mtsrin(3, 0x20000123L),
                    new VcpuStateChange.Slbmte(0x0000400000001000L, 0x08000001L),
                    new VcpuStateChange.Slbia(),
                    new VcpuStateChange.SetBat(true, 2, 0x1FFFL, 0x12L),
                    new VcpuStateChange.SetMsr(true, false, true),
                    new VcpuStateChange.SetSdr1(0x00200003L),
                    new VcpuStateChange.SetSdr1(0xFFFFFFFFFFFC001CL)),
                ref(StateReply.class)),
            new VcpuStateSet(14, 5),
            new Rejected(9, "vcpu: 9 is out of range; allowed 0 to 1"),
            new Rejected(-1, "vcpu: -1 is out of range; allowed 0 to 1"),
            new Failed(10, "xlate failed at ea 0x0: java.lang.IllegalStateException"),
            new HostTlbie(11, new HostFlush.PteFlush(0x1000, 0x0FFFF000L), ref(TlbieDone.class)),
            new HostTlbie(
                12, new HostFlush.PteVflush(0x12345L, 0xFFFFFFFFFL), ref(TlbieDone.class)),
            ActorFixtures.setup32(),
            new GuestSetup(
                GuestMmuKind.BOOK3S_64,
                0x01000000L,
                64L << 20,
                new MmuOptions(
                    Policy.LEGACY, EnumSet.of(Quirk.Q1_RC_LOST, Quirk.Q8_NOTIFIER_FULL_FLUSH)),
                4,
                0,
                16,
                3,
                ProtectionPolicy.FAIL),
            new GuestSetup(
                GuestMmuKind.BOOK3S_32,
                0,
                1 << 20,
                MmuOptions.defaults(Policy.STRICT),
                1,
                0,
                0,
                0,
                ProtectionPolicy.UPGRADE));
    for (Object m : messages) {
      assertThat(KIT.serializationTestKit().verifySerialization(m, true)).isEqualTo(m);
    }
  }
}
