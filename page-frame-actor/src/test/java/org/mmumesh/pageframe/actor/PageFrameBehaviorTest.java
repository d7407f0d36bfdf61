package org.mmumesh.pageframe.actor;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.pekko.actor.testkit.typed.Effect;
import org.apache.pekko.actor.testkit.typed.javadsl.BehaviorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.Test;
import org.mmumesh.pageframe.PfnStatus;

/** The PageFrame actor's effects, one message at a time (BehaviorTestKit, no actor system). */
class PageFrameBehaviorTest {
  private final BehaviorTestKit<PageFrame.Command> kit =
      BehaviorTestKit.create(PageFrame.create(PageFrame.Settings.defaults()));
  private final TestInbox<PageFrame.VmReply> vms = TestInbox.create();
  private final TestInbox<PageFrame.SlotReply> slots = TestInbox.create();
  private final TestInbox<PageFrame.PopulateReply> populated = TestInbox.create();
  private final TestInbox<PageFrame.PfnReply> pfns = TestInbox.create();
  private final TestInbox<PageFrame.NotifierEvent> notifier = TestInbox.create();

  private void vmWithSlot() {
    kit.run(new PageFrame.CreateVm(1, 0, vms.getRef()));
    vms.expectMessage(new PageFrame.VmCreated(1, 0));
    kit.run(new PageFrame.AddSlot(2, 0, 0, 0, 16, 0, false, slots.getRef()));
    assertThat(slots.receiveMessage()).isInstanceOf(PageFrame.SlotAdded.class);
    kit.run(new PageFrame.Populate(3, 0, 5, 0xABCL, populated.getRef()));
    populated.expectMessage(new PageFrame.Populated(3));
  }

  @Test
  void gfnToPfnProt_answersWithALease_andStartsTheLeaseTick() {
    vmWithSlot();
    kit.clearLog();
    kit.getAllEffects();
    kit.run(new PageFrame.GfnToPfnProt(4, 0, 0, 5, false, pfns.getRef()));
    PageFrame.PfnAnswered a = (PageFrame.PfnAnswered) pfns.receiveMessage();
    assertThat(a.result().status()).isEqualTo(PfnStatus.OK);
    assertThat(a.lease()).isPositive();
    assertThat(kit.getAllEffects())
        .anySatisfy(e -> assertThat(e).isInstanceOf(Effect.TimerScheduled.class));
  }

  @Test
  void zeroPageWriteFault_publishesTheNotifierEvent_andAnswersOnlyAfterTheAck() {
    vmWithSlot();
    kit.run(new PageFrame.SubscribeNotifier(0, notifier.getRef()));
    kit.run(new PageFrame.GfnToPfnProt(5, 0, 0, 7, false, pfns.getRef()));
    PageFrame.PfnAnswered zero = (PageFrame.PfnAnswered) pfns.receiveMessage();
    kit.run(new PageFrame.ReleaseLease(0, zero.lease()));
    kit.run(new PageFrame.GfnToPfnProt(6, 0, 0, 7, true, pfns.getRef()));
    PageFrame.NotifierEvent ev = notifier.receiveMessage();
    assertThat(ev.vm()).isZero();
    assertThat(ev.gfnStart()).isLessThanOrEqualTo(7);
    assertThat(ev.gfnEnd()).isGreaterThan(7);
    assertThat(pfns.hasMessages()).as("answered before the hosts acknowledged").isFalse();
    kit.run(new PageFrame.NotifierAck(0, ev.notifierSeq()));
    PageFrame.PfnAnswered cow = (PageFrame.PfnAnswered) pfns.receiveMessage();
    assertThat(cow.result().writable()).isTrue();
    assertThat(cow.result().cow()).isTrue();
    assertThat(cow.result().pfn()).isNotEqualTo(zero.result().pfn());
  }

  @Test
  void unknownVm_isRejectedNamingTheField_andChangesNothing() {
    kit.run(new PageFrame.GfnToPfnProt(7, 9, 0, 5, false, pfns.getRef()));
    PageFrame.PfnReply r = pfns.receiveMessage();
    assertThat(r).isInstanceOf(PageFrame.Rejected.class);
    assertThat(((PageFrame.Rejected) r).reason()).startsWith("vm");
    kit.run(new PageFrame.CreateVm(8, 9, vms.getRef()));
    vms.expectMessage(new PageFrame.VmCreated(8, 9));
  }
}
