package org.mmumesh.pageframe.actor;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Fingerprint;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.pageframe.actor.PageFrame.Command;

/**
 * {@link PageFrame.ApplyStores} (the vCPUs' store batches: applied in order, isolation violations
 * refused, retries answered from memory, never stashed behind a notifier round) and {@link
 * PageFrame.ReadFrames} (read-only contents per gfn).
 */
class PageFrameStoresTest {
  private static final ActorTestKit kit = ActorTestKit.create(ConfigFactory.load());

  private ActorRef<Command> pf;
  private TestProbe<PageFrame.PfnReply> pfn;
  private TestProbe<PageFrame.StoresReply> stores;
  private TestProbe<PageFrame.FramesReply> frames;
  private long nextId = 1000;

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  /** VM 0 with memslot 0: gfn 0x100-0x13f on host pages 0-0x3f. */
  @BeforeEach
  void setUp() {
    pf = kit.spawn(PageFrame.create(PageFrame.Settings.defaults()));
    pfn = kit.createTestProbe();
    stores = kit.createTestProbe();
    frames = kit.createTestProbe();
    TestProbe<PageFrame.VmReply> vm = kit.createTestProbe();
    TestProbe<PageFrame.SlotReply> slot = kit.createTestProbe();
    pf.tell(new PageFrame.CreateVm(1, 0, vm.getRef()));
    vm.expectMessage(new PageFrame.VmCreated(1, 0));
    pf.tell(new PageFrame.AddSlot(2, 0, 0, 0x100, 64, 0, false, slot.getRef()));
    slot.expectMessageClass(PageFrame.SlotAdded.class);
  }

  private int writablePfn(long gfn) {
    pf.tell(new PageFrame.GfnToPfnProt(nextId++, 0, 0, gfn, true, pfn.getRef()));
    PageFrame.PfnAnswered a = pfn.expectMessageClass(PageFrame.PfnAnswered.class);
    pf.tell(new PageFrame.ReleaseLease(0, a.lease()));
    assertThat(a.result().writable()).isTrue();
    return a.result().pfn();
  }

  private long[] read(long gfnStart, int count) {
    pf.tell(new PageFrame.ReadFrames(nextId++, 0, gfnStart, count, frames.getRef()));
    return frames.expectMessageClass(PageFrame.FramesRead.class).fingerprints();
  }

  @Test
  void applyStores_mixesEachStoreInOrder_andReadFramesShowsTheContents() {
    int p = writablePfn(0x105);
    pf.tell(
        new PageFrame.ApplyStores(
            7, 0, 2, new int[] {p, p}, new int[] {8, 16}, new long[] {11, 22}, stores.getRef()));
    stores.expectMessage(new PageFrame.StoresDone(7, 2, 0));
    long expected = Fingerprint.mix(Fingerprint.mix(Fingerprint.ZERO, 8, 11), 16, 22);
    long[] fps = read(0x104, 3);
    assertThat(fps).containsExactly(Fingerprint.ZERO, expected, Fingerprint.ZERO);
  }

  @Test
  void applyStores_refusesAStoreToTheZeroPage_appliesTheRest_andKeepsRunning() {
    pf.tell(new PageFrame.GfnToPfnProt(nextId++, 0, 0, 0x106, false, pfn.getRef()));
    PageFrame.PfnAnswered zero = pfn.expectMessageClass(PageFrame.PfnAnswered.class);
    assertThat(zero.result().pfn()).isEqualTo(PageFrames.ZERO_PFN);
    int p = writablePfn(0x107);
    pf.tell(
        new PageFrame.ApplyStores(
            8,
            0,
            0,
            new int[] {PageFrames.ZERO_PFN, p},
            new int[] {0, 0},
            new long[] {5, 6},
            stores.getRef()));
    stores.expectMessage(new PageFrame.StoresDone(8, 1, 1));
    assertThat(read(0x106, 2))
        .containsExactly(Fingerprint.ZERO, Fingerprint.mix(Fingerprint.ZERO, 0, 6));
    TestProbe<PageFrame.InvariantsReply> inv = kit.createTestProbe();
    pf.tell(new PageFrame.CheckInvariants(inv.getRef()));
    assertThat(inv.receiveMessage().violations()).isEmpty();
  }

  @Test
  void retriedApplyStores_isAnsweredFromMemory_notAppliedTwice() {
    int p = writablePfn(0x108);
    PageFrame.ApplyStores s =
        new PageFrame.ApplyStores(
            9, 0, 3, new int[] {p}, new int[] {24}, new long[] {99}, stores.getRef());
    pf.tell(s);
    stores.expectMessage(new PageFrame.StoresDone(9, 1, 0));
    pf.tell(s);
    stores.expectMessage(new PageFrame.StoresDone(9, 1, 0));
    assertThat(read(0x108, 1)).containsExactly(Fingerprint.mix(Fingerprint.ZERO, 24, 99));
    // another vCPU with the same request id is a different request
    pf.tell(
        new PageFrame.ApplyStores(
            9, 0, 4, new int[] {p}, new int[] {24}, new long[] {99}, stores.getRef()));
    stores.expectMessage(new PageFrame.StoresDone(9, 1, 0));
    assertThat(read(0x108, 1))
        .containsExactly(Fingerprint.mix(Fingerprint.mix(Fingerprint.ZERO, 24, 99), 24, 99));
  }

  @Test
  void applyStores_isProcessedAtOnce_whileANotifierRoundIsInFlight() {
    TestProbe<PageFrame.NotifierEvent> hostMmu = kit.createTestProbe();
    pf.tell(new PageFrame.SubscribeNotifier(0, hostMmu.getRef()));
    int p = writablePfn(0x110);
    // a COW of the zero page at 0x111 starts a round that waits for the ack
    pf.tell(new PageFrame.GfnToPfnProt(nextId++, 0, 0, 0x111, false, pfn.getRef()));
    PageFrame.PfnAnswered z = pfn.expectMessageClass(PageFrame.PfnAnswered.class);
    pf.tell(new PageFrame.ReleaseLease(0, z.lease()));
    pf.tell(new PageFrame.GfnToPfnProt(nextId++, 0, 0, 0x111, true, pfn.getRef()));
    PageFrame.NotifierEvent ev = hostMmu.receiveMessage();
    pfn.expectNoMessage(Duration.ofMillis(50));

    pf.tell(
        new PageFrame.ApplyStores(
            10, 0, 1, new int[] {p}, new int[] {0}, new long[] {1}, stores.getRef()));
    stores.expectMessage(new PageFrame.StoresDone(10, 1, 0));
    pf.tell(new PageFrame.ReadFrames(nextId++, 0, 0x110, 1, frames.getRef()));
    assertThat(frames.expectMessageClass(PageFrame.FramesRead.class).fingerprints())
        .containsExactly(Fingerprint.mix(Fingerprint.ZERO, 0, 1));

    ev.replyTo().tell(new PageFrame.NotifierAck(0, ev.notifierSeq()));
    PageFrame.PfnAnswered w = pfn.expectMessageClass(PageFrame.PfnAnswered.class);
    pf.tell(new PageFrame.ReleaseLease(0, w.lease()));
  }

  @Test
  void readWord_returnsTheLoadedWordOfAFrame_andRejectsBadInputNamingTheField() {
    int p = writablePfn(0x109);
    pf.tell(
        new PageFrame.ApplyStores(
            20, 0, 0, new int[] {p}, new int[] {8}, new long[] {77}, stores.getRef()));
    stores.expectMessage(new PageFrame.StoresDone(20, 1, 0));
    long fp = Fingerprint.mix(Fingerprint.ZERO, 8, 77);
    pf.tell(new PageFrame.ReadWord(21, 0, p, 8, frames.getRef()));
    frames.expectMessage(new PageFrame.WordRead(21, p, fp, Fingerprint.loadWord(fp, 8)));
    pf.tell(new PageFrame.ReadWord(22, 0, p, 4096, frames.getRef()));
    assertThat(frames.expectMessageClass(PageFrame.Rejected.class).reason())
        .isEqualTo("offset: 4096 is out of range; allowed 0 to 4095");
    pf.tell(new PageFrame.ReadWord(23, 9, p, 0, frames.getRef()));
    assertThat(frames.expectMessageClass(PageFrame.Rejected.class).reason())
        .startsWith("vm: 9 does not exist");
    pf.tell(new PageFrame.ReadWord(24, 0, 1 << 30, 0, frames.getRef()));
    assertThat(frames.expectMessageClass(PageFrame.Rejected.class).reason()).startsWith("pfn");
  }

  @Test
  void writeFaultOnTheZeroPage_reportsTheCowBreak_aSecondOneDoesNot() {
    pf.tell(new PageFrame.GfnToPfnProt(nextId++, 0, 0, 0x10A, false, pfn.getRef()));
    PageFrame.PfnAnswered z = pfn.expectMessageClass(PageFrame.PfnAnswered.class);
    pf.tell(new PageFrame.ReleaseLease(0, z.lease()));
    assertThat(z.result().cow()).isFalse();
    pf.tell(new PageFrame.GfnToPfnProt(nextId++, 0, 0, 0x10A, true, pfn.getRef()));
    PageFrame.PfnAnswered w = pfn.expectMessageClass(PageFrame.PfnAnswered.class);
    pf.tell(new PageFrame.ReleaseLease(0, w.lease()));
    assertThat(w.result().cow()).isTrue();
    assertThat(w.result().pfn()).isNotEqualTo(PageFrames.ZERO_PFN);
    pf.tell(new PageFrame.GfnToPfnProt(nextId++, 0, 0, 0x10A, true, pfn.getRef()));
    PageFrame.PfnAnswered again = pfn.expectMessageClass(PageFrame.PfnAnswered.class);
    pf.tell(new PageFrame.ReleaseLease(0, again.lease()));
    assertThat(again.result().cow()).isFalse();
  }

  @Test
  void readFrames_beyondTheBound_isRejectedSayingToReadInChunks_andChunksCoverAnyRange() {
    pf.tell(new PageFrame.ReadFrames(30, 0, 0, PageFrame.MAX_READ_FRAMES + 1, frames.getRef()));
    assertThat(frames.expectMessageClass(PageFrame.Rejected.class).reason())
        .startsWith("count: 1048577 is out of range; allowed 0 to 1048576 per ReadFrames")
        .contains("in consecutive chunks")
        .contains("at most " + PageFrame.READ_FRAMES_CHUNK + " when the reply may cross nodes");
    // a VM bigger than one chunk: a memslot of 1 Mi + 64 pages, written at both ends
    TestProbe<PageFrame.SlotReply> slot = kit.createTestProbe();
    long base = 0x10_0000;
    int pages = PageFrame.MAX_READ_FRAMES + 64;
    pf.tell(new PageFrame.AddSlot(31, 0, 1, base, pages, 0x1000, false, slot.getRef()));
    slot.expectMessageClass(PageFrame.SlotAdded.class);
    int first = writablePfn(base);
    int last = writablePfn(base + pages - 1);
    pf.tell(
        new PageFrame.ApplyStores(
            32,
            0,
            0,
            new int[] {first, last},
            new int[] {0, 0},
            new long[] {1, 2},
            stores.getRef()));
    stores.expectMessage(new PageFrame.StoresDone(32, 2, 0));
    long[] all = new long[pages];
    for (int at = 0; at < pages; at += PageFrame.MAX_READ_FRAMES) {
      int n = Math.min(PageFrame.MAX_READ_FRAMES, pages - at);
      long[] chunk = read(base + at, n);
      assertThat(chunk).hasSize(n);
      System.arraycopy(chunk, 0, all, at, n);
    }
    assertThat(all[0]).isEqualTo(Fingerprint.mix(Fingerprint.ZERO, 0, 1));
    assertThat(all[pages - 1]).isEqualTo(Fingerprint.mix(Fingerprint.ZERO, 0, 2));
    assertThat(all[pages / 2]).isEqualTo(Fingerprint.ZERO);
  }

  @Test
  void badApplyStoresAndReadFrames_areRejectedNamingTheField_andChangeNothing() {
    int p = writablePfn(0x120);
    pf.tell(
        new PageFrame.ApplyStores(
            11, 0, 4096, new int[] {p}, new int[] {0}, new long[] {1}, stores.getRef()));
    assertThat(stores.expectMessageClass(PageFrame.Rejected.class).reason())
        .startsWith("vcpu: 4096 is out of range; allowed 0 to 4095");
    pf.tell(
        new PageFrame.ApplyStores(
            12, 0, 0, new int[] {p, p}, new int[] {0, 4096}, new long[] {1, 2}, stores.getRef()));
    assertThat(stores.expectMessageClass(PageFrame.Rejected.class).reason())
        .startsWith("offsets[1]: 4096 is out of range; allowed 0 to 4095");
    pf.tell(
        new PageFrame.ApplyStores(
            13, 0, 0, new int[] {p, p}, new int[] {0}, new long[] {1, 2}, stores.getRef()));
    assertThat(stores.expectMessageClass(PageFrame.Rejected.class).reason())
        .startsWith("offsets/values: lengths 1/2");
    assertThat(read(0x120, 1)).containsExactly(Fingerprint.ZERO);

    pf.tell(new PageFrame.ReadFrames(14, 9, 0, 1, frames.getRef()));
    assertThat(frames.expectMessageClass(PageFrame.Rejected.class).reason())
        .startsWith("vm: 9 does not exist");
    pf.tell(new PageFrame.ReadFrames(15, 0, 0, -1, frames.getRef()));
    assertThat(frames.expectMessageClass(PageFrame.Rejected.class).reason())
        .startsWith("count: -1 is out of range");
  }
}
