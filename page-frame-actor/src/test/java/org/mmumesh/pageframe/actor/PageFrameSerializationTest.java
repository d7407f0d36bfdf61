package org.mmumesh.pageframe.actor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.pageframe.PfnResult;
import org.mmumesh.pageframe.PfnStatus;
import org.mmumesh.pageframe.actor.PageFrame.Command;
import org.mmumesh.shell.CborRoundTripTest;

/** Every command, reply and event of the PageFrame protocol round-trips through Jackson CBOR. */
class PageFrameSerializationTest extends CborRoundTripTest {
  @Test
  void everyCommand_roundTrips() {
    TestProbe<PageFrame.VmReply> vm = kit.createTestProbe();
    TestProbe<PageFrame.SlotReply> slot = kit.createTestProbe();
    TestProbe<PageFrame.PopulateReply> pop = kit.createTestProbe();
    TestProbe<PageFrame.PfnReply> pfn = kit.createTestProbe();
    TestProbe<PageFrame.NotifierEvent> sub = kit.createTestProbe();
    TestProbe<PageFrame.StatsReply> stats = kit.createTestProbe();
    TestProbe<PageFrame.InvariantsReply> inv = kit.createTestProbe();
    TestProbe<PageFrame.KsmReply> ksmd = kit.createTestProbe();
    List<Command> all =
        List.of(
            new PageFrame.CreateVm(1, 3, vm.getRef()),
            new PageFrame.AddSlot(2, 3, 7, 0x100, 64, 0x4000, true, slot.getRef()),
            new PageFrame.RemoveSlot(3, 3, 7, slot.getRef()),
            new PageFrame.AddSlot(
                4, 3, 8, PageFrames.MAX_GFN - 63, 64, 0x8000, false, slot.getRef()),
            new PageFrame.Populate(5, 3, 0x105, 0xDEAD_BEEF_0000_0001L, pop.getRef()),
            new PageFrame.GfnToPfnProt(6, 3, 4095, 0x105, true, pfn.getRef()),
            new PageFrame.ReleaseLease(3, 42),
            new PageFrame.SubscribeNotifier(3, sub.getRef()),
            new PageFrame.NotifierAck(3, 17),
            new PageFrame.ApplyStores(
                11,
                3,
                4095,
                new int[] {12, 13},
                new int[] {0, 4088},
                new long[] {-1L, 7},
                kit.<PageFrame.StoresReply>createTestProbe().getRef()),
            new PageFrame.ReadFrames(
                12, 3, 0x100, 64, kit.<PageFrame.FramesReply>createTestProbe().getRef()),
            new PageFrame.ReadWord(
                18, 3, 12, 4088, kit.<PageFrame.FramesReply>createTestProbe().getRef()),
            new PageFrame.GetStats(stats.getRef()),
            new PageFrame.CheckInvariants(inv.getRef()),
            new PageFrame.KsmScan(13, 4294967295L, ksmd.getRef()),
            new PageFrame.KsmSetRun(14, 2, ksmd.getRef()),
            new PageFrame.KsmSetPagesToScan(19, 4294967295L, ksmd.getRef()),
            new PageFrame.KsmSetSleepMillisecs(20, 1, ksmd.getRef()),
            new PageFrame.KsmMadvise(15, 3, 0x4000, 64, false, ksmd.getRef()),
            new PageFrame.KsmFullScans(16, 3, ksmd.getRef()),
            new PageFrame.GetKsmCounters(17, ksmd.getRef()));
    for (Command c : all) {
      roundTrip(c);
    }
  }

  @Test
  void everyReplyAndEvent_roundTrips_withEveryPfnStatus() {
    TestProbe<PageFrame.NotifierAck> ack = kit.createTestProbe();
    Map<String, Long> counters = new LinkedHashMap<>();
    counters.put("COW_BREAKS", 3L);
    counters.put("LEASES_EXPIRED", 1L);
    Map<Integer, Integer> leases = new LinkedHashMap<>();
    leases.put(0, 2);
    leases.put(65535, 0);
    List<Object> all =
        List.of(
            new PageFrame.NotifierEvent(3, 0x100, 0x140, 18, ack.getRef()),
            new PageFrame.VmCreated(1, 3),
            new PageFrame.SlotAdded(2, 5, 6),
            new PageFrame.SlotUpdateCompleted(3, 7),
            new PageFrame.Populated(5),
            new PageFrame.PfnAnswered(6, new PfnResult(PfnStatus.OK, 77, true, 9), 1),
            new PageFrame.PfnAnswered(6, new PfnResult(PfnStatus.OK, 0, false, 0), 2),
            new PageFrame.PfnAnswered(6, new PfnResult(PfnStatus.NOSLOT, -1, false, 9), 3),
            new PageFrame.PfnAnswered(6, new PfnResult(PfnStatus.RO_FAULT, -1, false, 9), 4),
            new PageFrame.PfnAnswered(6, new PfnResult(PfnStatus.FAULT, -1, false, 9), 5),
            new PageFrame.StoresDone(10, 2, 1),
            new PageFrame.FramesRead(11, 3, 0x100, new long[] {Long.MIN_VALUE, 0, 42}),
            new PageFrame.WordRead(18, 12, Long.MIN_VALUE, -1L),
            new PageFrame.PfnAnswered(6, new PfnResult(PfnStatus.OK, 78, true, 10, true), 6),
            new PageFrame.Rejected(8, "vcpu: 5000 is out of range; allowed 0 to 4095"),
            new PageFrame.Failed(9, "GfnToPfnProt: java.lang.IllegalStateException: x"),
            new PageFrame.StatsReply(counters, leases),
            new PageFrame.InvariantsReply(List.of("pfn 3 map count 2 but 1")),
            new PageFrame.KsmScanned(13, 99, 2),
            new PageFrame.KsmControlDone(14),
            new PageFrame.KsmFullScansDone(16, 3, 7),
            new PageFrame.KsmCounters(17, counters, List.of("node 3 counts 2 items but 1")),
            new PageFrame.Rejected(13, PageFrame.NO_SCANNER));
    for (Object m : all) {
      roundTrip(m);
    }
  }
}
