package org.mmumesh.ksm.actor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import org.mmumesh.shell.CborRoundTripTest;

/** Every command and reply of the Ksm protocol round-trips through Jackson CBOR. */
class KsmSerializationTest extends CborRoundTripTest {
  @Test
  void everyCommandAndReply_roundTrips() {
    TestProbe<Ksm.ControlReply> control = kit.createTestProbe();
    TestProbe<Ksm.FullScansReply> full = kit.createTestProbe();
    TestProbe<Ksm.CountersReply> counters = kit.createTestProbe();
    Map<String, Long> c = new LinkedHashMap<>();
    c.put("pages_sharing", 16L);
    c.put("coalesced_ticks", 0L);
    List<Object> all =
        List.of(
            new Ksm.SetRun(1, 2, control.getRef()),
            new Ksm.SetPagesToScan(2, 4294967295L, control.getRef()),
            new Ksm.SetSleepMillisecs(3, 1, control.getRef()),
            new Ksm.Madvise(4, 65535, 2147483638L, 1, false, control.getRef()),
            new Ksm.FullScans(5, Integer.MAX_VALUE, full.getRef()),
            new Ksm.GetCounters(6, counters.getRef()),
            new Ksm.ScanBatch(9, 4294967295L, kit.<Ksm.ScanBatchReply>createTestProbe().getRef()),
            new Ksm.ScanBatchDone(9, 100),
            new Ksm.ControlDone(1),
            new Ksm.FullScansDone(5, 3),
            new Ksm.Counters(6, c, List.of("node 1 counts 2 items but 1")),
            new Ksm.Rejected(7, "run: 3 is out of range; allowed 0 to 2"),
            new Ksm.Failed(8, "page-frame: no reply to KsmScan after 5 attempts"));
    for (Object m : all) {
      roundTrip(m);
    }
  }
}
