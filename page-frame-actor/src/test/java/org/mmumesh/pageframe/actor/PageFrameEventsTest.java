package org.mmumesh.pageframe.actor;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MeshEventBus;
import org.mmumesh.pageframe.PageFrames;

/**
 * The PageFrame's event-feed hooks: a KSM merge ({@code replace_page}) and a COW break each publish
 * one event with the host, VM, vCPU, guest frame and frames, on the node's {@link MeshEventBus},
 * and nothing is published while nobody watches.
 */
class PageFrameEventsTest {
  private static final ActorTestKit kit = ActorTestKit.create(ConfigFactory.load());
  private static final long A = 0x1234_5678_9ABC_DEF0L;
  private static final int HOST = 7;

  private final MeshEventBus bus = MeshEventBus.of(kit.system());
  private ActorRef<PageFrame.Command> pf;
  private TestProbe<MeshEvent> events;
  private TestProbe<PageFrame.PfnReply> pfn;
  private final ScriptedKsm ksm = new ScriptedKsm();
  private long nextId = 1000;

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  /** Host 7, VM 0 with memslot 0: gfn 0x100-0x13f on host pages 0-0x3f. */
  @BeforeEach
  void setUp() {
    pf = kit.spawn(PageFrame.create(PageFrame.Settings.defaults(), ksm.factory(), HOST));
    events = kit.createTestProbe();
    pfn = kit.createTestProbe();
    TestProbe<PageFrame.VmReply> vm = kit.createTestProbe();
    TestProbe<PageFrame.SlotReply> slot = kit.createTestProbe();
    pf.tell(new PageFrame.CreateVm(1, 0, vm.getRef()));
    vm.expectMessage(new PageFrame.VmCreated(1, 0));
    pf.tell(new PageFrame.AddSlot(2, 0, 0, 0x100, 64, 0, false, slot.getRef()));
    slot.expectMessageClass(PageFrame.SlotAdded.class);
  }

  @AfterEach
  void noWatchers() {
    bus.setWatchers(List.of());
  }

  private void watch() {
    bus.setWatchers(
        List.of(new MeshEventBus.Watcher(MeshEvent.Filter.ALL, e -> events.getRef().tell(e))));
  }

  private PageFrame.PfnAnswered fault(int vcpu, long gfn, boolean write) {
    pf.tell(new PageFrame.GfnToPfnProt(nextId++, 0, vcpu, gfn, write, pfn.getRef()));
    PageFrame.PfnAnswered a = pfn.expectMessageClass(PageFrame.PfnAnswered.class);
    pf.tell(new PageFrame.ReleaseLease(0, a.lease()));
    return a;
  }

  /** One KSM page operation, through ksmd's real path (a KsmScan batch on the PageFrame). */
  private void ksmOp(java.util.function.Predicate<PageFrames> step) {
    assertThat(ksm.run(kit, pf, step)).isTrue();
  }

  private void populate(long gfn) {
    TestProbe<PageFrame.PopulateReply> pop = kit.createTestProbe();
    pf.tell(new PageFrame.Populate(nextId++, 0, gfn, A, pop.getRef()));
    pop.expectMessageClass(PageFrame.Populated.class);
  }

  /** gfn 0x111's page merged into gfn 0x110's, which became the KSM page; returns both pfns. */
  private int[] merge() {
    populate(0x110);
    populate(0x111);
    int p0 = fault(0, 0x110, false).result().pfn();
    int p1 = fault(0, 0x111, false).result().pfn();
    ksmOp(c -> c.writeProtectPage(0, 0x10, p0));
    ksmOp(c -> ScriptedKsm.makeKsmPage(c, 0, 0x10, p0));
    ksmOp(c -> c.writeProtectPage(0, 0x11, p1));
    ksmOp(c -> c.replacePage(0, 0x11, p1, p0));
    return new int[] {p0, p1};
  }

  @Test
  void ksmMerge_publishesAMergeEvent_withHostVmGfnAndKsmPfn() {
    watch();
    int[] p = merge();
    MeshEvent e = events.receiveMessage();
    assertThat(e)
        .isEqualTo(
            new MeshEvent(
                MeshEvent.Kind.MERGE,
                HOST,
                0,
                MeshEvent.NONE,
                MeshEvent.NONE,
                0x111,
                p[0],
                "merge pfn " + p[1] + " -> ksm pfn " + p[0]));
    events.expectNoMessage(java.time.Duration.ofMillis(300));
  }

  @Test
  void cowBreakOfAKsmPage_publishesACowEvent_withTheWritingVcpuAndTheCopy() {
    int[] p = merge();
    watch();
    PageFrame.PfnAnswered w = fault(3, 0x111, true);
    MeshEvent e = events.receiveMessage();
    assertThat(e)
        .isEqualTo(
            new MeshEvent(
                MeshEvent.Kind.COW_BREAK,
                HOST,
                0,
                3,
                MeshEvent.NONE,
                0x111,
                w.result().pfn(),
                "cow ksm pfn " + p[0] + " -> " + w.result().pfn()));
    events.expectNoMessage(java.time.Duration.ofMillis(300));
  }

  @Test
  void nobodyWatching_nothingIsPublished() {
    merge();
    fault(1, 0x111, true);
    watch();
    fault(1, 0x112, false); // a read of a fresh page: no merge, no COW
    events.expectNoMessage(java.time.Duration.ofMillis(300));
  }
}
