package org.mmumesh.hostmmu.actor;

import static org.mmumesh.hostmmu.actor.HostMmuFixtures.GVSID1;
import static org.mmumesh.hostmmu.actor.HostMmuFixtures.pte;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.PageSize;
import org.mmumesh.hostmmu.Lookup;
import org.mmumesh.hostmmu.ShadowDump;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.Command;
import org.mmumesh.shell.CborRoundTripTest;

/** Every command, reply and event of the HostMmu protocol round-trips through Jackson CBOR. */
class HostMmuSerializationTest extends CborRoundTripTest {
  @Test
  void everyCommand_roundTrips() {
    TestProbe<HostMmu.LookupReply> lookup = kit.createTestProbe();
    TestProbe<HostMmu.MapReply> map = kit.createTestProbe();
    TestProbe<HostMmu.UnmapReply> unmap = kit.createTestProbe();
    TestProbe<HostMmu.FlushReply> flush = kit.createTestProbe();
    TestProbe<HostMmu.NotifierReply> notifier = kit.createTestProbe();
    TestProbe<HostMmu.TlbShootdown> vcpu = kit.createTestProbe();
    TestProbe<HostMmu.StatsReply> stats = kit.createTestProbe();
    TestProbe<HostMmu.InvariantsReply> inv = kit.createTestProbe();
    TestProbe<HostMmu.ShadowDumped> dump = kit.createTestProbe();
    TestProbe<HostMmu.CheckpointReply> cp = kit.createTestProbe();
    var g = pte(GVSID1, 0x10005000L, 0xAB000L, true);
    var g64k =
        new org.mmumesh.common.GuestPte(
            0xC000000010000000L, -3L, 0x2000000L, true, false, false, PageSize.SIZE_64K);
    List<Command> all =
        List.of(
            new HostMmu.Lookup(1, 0, GVSID1, 0x10005123L, lookup.getRef()),
            new HostMmu.MapPage(2, 1, g, GVSID1, 0x777, true, 42, map.getRef()),
            new HostMmu.MapPage(3, 0, g64k, -1L, 0, false, -1, map.getRef()),
            new HostMmu.UnmapPage(4, 0, g, true, unmap.getRef()),
            new HostMmu.GuestTlbie(
                5, new HostFlush.PteFlush(0x345000L, 0x0FFFF000L), flush.getRef()),
            new HostMmu.GuestTlbie(
                6, new HostFlush.PteVflush(0x123456789L, 0xFFFFFFFF0L), flush.getRef()),
            new HostMmu.FlushVcpu(7, 3, flush.getRef()),
            new HostMmu.NotifierInvalidate(0xAB, 0xAC, 9, true, notifier.getRef()),
            new HostMmu.NotifierInvalidate(0, HostMmu.MAX_GFN, 10, false, notifier.getRef()),
            new HostMmu.SubscribeTlb(2, vcpu.getRef()),
            new HostMmu.SubscribeTlb(2, 99, vcpu.getRef()),
            new HostMmu.TlbShootdownAck(2, 17),
            new HostMmu.GetStats(stats.getRef()),
            new HostMmu.CheckInvariants(inv.getRef()),
            new HostMmu.DumpShadow(dump.getRef()),
            new HostMmuCheckpointProtocol.CheckpointState(11, cp.getRef()),
            new HostMmuCheckpointProtocol.RestoreState(12, new byte[] {8, 1, -1}, cp.getRef()));
    for (Command c : all) {
      roundTrip(c);
    }
  }

  @Test
  void everyReplyAndEvent_roundTrips() {
    TestProbe<HostMmu.TlbShootdownAck> ack = kit.createTestProbe();
    Map<String, Long> counters = new LinkedHashMap<>();
    counters.put("INSTALLS_RO", 3L);
    counters.put("SHOOTDOWNS", 1L);
    List<Object> all =
        List.of(
            new HostMmu.TlbShootdown(12, ack.getRef()),
            new HostMmu.TlbShootdown(13, ack.getRef(), true),
            new HostMmu.ShadowDumped(
                new ShadowDump(
                    List.of(
                        List.of(
                            new ShadowDump.ShadowEntry(
                                3,
                                0x10005000L,
                                0x12340005L,
                                0xAB000L,
                                0xAB,
                                true,
                                true,
                                false,
                                "SIZE_4K",
                                0x7770005L,
                                0x777,
                                81,
                                true,
                                true,
                                false,
                                "SIZE_4K")),
                        List.of()),
                    counters),
                5),
            new HostMmu.LookedUp(1, -1, Lookup.MISS, -1, 1),
            new HostMmu.LookedUp(2, 77, Lookup.HIT_RO_NOEXEC, 0x777, 5),
            new HostMmu.Mapped(3, true, true, false, 6),
            new HostMmu.Mapped(4, false, false, false, 6),
            new HostMmu.Unmapped(5, 1, 7),
            new HostMmu.Flushed(6, 12, 8),
            new HostMmu.NotifierAcked(9, 2, 9),
            new HostMmu.NotifierAcked(10),
            new HostMmu.Rejected(11, "vcpu: 9 is out of range; allowed 0 to 3"),
            new HostMmu.Failed(12, "MapPage: java.lang.IllegalStateException: x"),
            new HostMmu.StatsReply(counters, 4, 3, 2),
            new HostMmuCheckpointProtocol.StateCheckpoint(11, new byte[] {1, 0, -1}),
            new HostMmuCheckpointProtocol.StateRestored(12),
            new HostMmu.InvariantsReply(
                List.of("htab slot 3 is valid but has no owner"), 1, 0, 0, 2, 4));
    for (Object m : all) {
      roundTrip(m);
    }
  }
}
