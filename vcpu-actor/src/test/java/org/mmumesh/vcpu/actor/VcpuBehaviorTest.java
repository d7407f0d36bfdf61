package org.mmumesh.vcpu.actor;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.Effect;
import org.apache.pekko.actor.testkit.typed.javadsl.BehaviorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.Counter;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.Lookup;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.VcpuSetup;

/** Effects of single messages to a {@link Vcpu}, synchronously (BehaviorTestKit). */
class VcpuBehaviorTest {
  private static final long EA = 0x10005010L;

  private final TestInbox<GuestMmu.Command> guest = TestInbox.create();
  private final TestInbox<HostMmu.Command> host = TestInbox.create();
  private final TestInbox<PageFrame.Command> frames = TestInbox.create();
  private final TestInbox<Vcpu.BatchReply> batches = TestInbox.create();
  private final TestInbox<Vcpu.ControlReply> control = TestInbox.create();
  private ActorRef<HostMmu.TlbShootdown> shootdowns;

  /** A started vCPU: subscribed, mode known (supervisor, IR|DR), idle. */
  private BehaviorTestKit<Vcpu.Command> started() {
    VcpuSetup setup =
        new VcpuSetup(
            0, 0, MmuOptions.defaults(Policy.FIXED), 64, 4, Duration.ofSeconds(1), 3, 2, 4);
    BehaviorTestKit<Vcpu.Command> t =
        BehaviorTestKit.create(
            Vcpu.create(
                setup, guest.getRef(), host.getRef(), frames.getRef(), frames.getRef().narrow()));
    shootdowns = ((HostMmu.SubscribeTlb) host.receiveMessage()).vcpuRef();
    GuestMmu.GetMode gm = (GuestMmu.GetMode) guest.receiveMessage();
    gm.replyTo().tell(new GuestMmu.ModeOf(3));
    t.runOne(); // the adapted ModeOf
    // the one timeout tick, started by GetMode; no other timer
    assertThat(t.getAllEffects())
        .filteredOn(e -> e instanceof Effect.TimerScheduled<?>)
        .singleElement()
        .satisfies(
            e -> assertThat(((Effect.TimerScheduled<?>) e).msg().toString()).contains("Tick"));
    return t;
  }

  @Test
  void runBatchInIdle_withATlbMiss_asksTheGuestVsid_thenTheHostLookup_withoutATimerPerRequest() {
    BehaviorTestKit<Vcpu.Command> t = started();
    t.run(new Vcpu.RunBatch(1, List.of(new AccessOp(Access.LOAD, EA, 0)), batches.getRef()));
    GuestMmu.EsidToVsid e = (GuestMmu.EsidToVsid) guest.receiveMessage();
    assertThat(e.esid()).isEqualTo(EA >>> 28);
    // the tick started at GetMode still runs: no timer is started or cancelled per request
    assertThat(t.getAllEffects())
        .noneMatch(
            x -> x instanceof Effect.TimerScheduled<?> || x instanceof Effect.TimerCancelled);

    e.replyTo().tell(new GuestMmu.VsidOf(e.requestId(), 0x1234L));
    t.runOne();
    HostMmu.Lookup l = (HostMmu.Lookup) host.receiveMessage();
    assertThat(l.ea()).isEqualTo(EA);
    assertThat(l.gvsid()).isEqualTo(0x1234L);
    assertThat(batches.hasMessages()).isFalse();
    assertThat(frames.hasMessages()).isFalse();

    l.replyTo().tell(new HostMmu.LookedUp(l.requestId(), 5, Lookup.HIT_RO, 77, 1));
    t.runOne();
    Vcpu.BatchDone d = (Vcpu.BatchDone) batches.receiveMessage();
    assertThat(d.completed()).isEqualTo(1);
    assertThat(d.counters().get(Counter.HTAB_HITS)).isEqualTo(1);
  }

  @Test
  void illegalCommands_getAnExplicitRejection_namingTheState_andNothingElseHappens() {
    BehaviorTestKit<Vcpu.Command> t = started();
    t.run(new Vcpu.Halt(control.getRef()));
    assertThat(control.receiveMessage())
        .isEqualTo(new Vcpu.Acknowledged("Halt", Vcpu.VcpuState.HALTED));
    t.run(new Vcpu.Halt(control.getRef()));
    Vcpu.Rejected r = (Vcpu.Rejected) control.receiveMessage();
    assertThat(r.state()).isEqualTo(Vcpu.VcpuState.HALTED);
    assertThat(r.reason()).contains("Halt: not allowed in state HALTED");
    assertThat(t.hasEffects()).isFalse();
    assertThat(guest.hasMessages()).isFalse();
    assertThat(host.hasMessages()).isFalse();

    t.run(new Vcpu.RunBatch(1, List.of(new AccessOp(Access.LOAD, EA, 0)), batches.getRef()));
    Vcpu.Rejected rb = (Vcpu.Rejected) batches.receiveMessage();
    assertThat(rb.id()).isEqualTo(1);
    assertThat(rb.reason()).contains("HALTED");
  }

  @Test
  void shootdownWithAFlushRequest_isAckedAtOnce_andTheNextBatchStartsWithFlushVcpu() {
    BehaviorTestKit<Vcpu.Command> t = started();
    TestInbox<HostMmu.TlbShootdownAck> acks = TestInbox.create();
    shootdowns.tell(new HostMmu.TlbShootdown(7, acks.getRef(), true));
    t.runOne(); // the adapted shootdown
    assertThat(acks.receiveMessage()).isEqualTo(new HostMmu.TlbShootdownAck(0, 7));
    assertThat(host.hasMessages()).isFalse(); // nothing flushed before the guest entry

    t.run(new Vcpu.RunBatch(1, List.of(new AccessOp(Access.LOAD, EA, 0)), batches.getRef()));
    HostMmu.FlushVcpu f = (HostMmu.FlushVcpu) host.receiveMessage();
    assertThat(f.vcpu()).isZero();
    assertThat(guest.hasMessages()).isFalse(); // no access before the flush
  }

  @Test
  void refusals_reachTheRequestOfTheirId_whateverReplyFamilyTheyBelongTo_andOthersAreIgnored() {
    BehaviorTestKit<Vcpu.Command> t = started();
    t.run(new Vcpu.RunBatch(1, List.of(new AccessOp(Access.LOAD, EA, 0)), batches.getRef()));
    GuestMmu.EsidToVsid e = (GuestMmu.EsidToVsid) guest.receiveMessage();
    // a refusal of some other request (a late one): ignored, the access still waits for its VSID
    e.replyTo().tell(new GuestMmu.Rejected(e.requestId() + 1, "esid: late"));
    t.runOne();
    assertThat(batches.hasMessages()).isFalse();
    e.replyTo().tell(new GuestMmu.VsidOf(e.requestId(), 0x1234L));
    t.runOne();
    HostMmu.Lookup l = (HostMmu.Lookup) host.receiveMessage();
    // the host MMU's Failed (one record for all its reply families) fails the access it answers
    l.replyTo().tell(new HostMmu.Failed(l.requestId(), "core threw"));
    t.runOne();
    Vcpu.BatchDone d = (Vcpu.BatchDone) batches.receiveMessage();
    assertThat(d.failed()).isEqualTo(1);
    assertThat(d.failures()).singleElement().asString().endsWith("host MMU failed: core threw");
  }
}
