package org.mmumesh.vcpu.actor;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.checkpoint.v1.VcpuEntityState;
import org.mmumesh.checkpoint.v1.VcpuRunState;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.vcpu.VcpuSetup;
import org.mmumesh.vcpu.actor.VcpuCheckpointProtocol.CheckpointReply;
import org.mmumesh.vcpu.actor.VcpuCheckpointProtocol.CheckpointState;
import org.mmumesh.vcpu.actor.VcpuCheckpointProtocol.RestoreState;
import org.mmumesh.vcpu.actor.VcpuCheckpointProtocol.StateCheckpoint;
import org.mmumesh.vcpu.actor.VcpuCheckpointProtocol.StateRestored;
import org.mmumesh.vcpu.actor.VcpuProtocol.VcpuState;

/**
 * CheckpointState / RestoreState of the Vcpu entity (issue 13) over the real GuestMmu, HostMmu and
 * PageFrame actors ({@link FlowMesh}): checkpoint an idle vCPU after real faults, restore into a
 * fresh entity, the same bytes and the same status (counters, epoch), and the copy runs the next
 * batch; refused away from a barrier and on a mismatch, with nothing changed.
 */
class VcpuEntityCheckpointTest {
  private static final ActorTestKit KIT = ActorTestKit.create(ConfigFactory.load());
  private static final MmuOptions OPTIONS = MmuOptions.defaults(Policy.STRICT);
  private final TestProbe<CheckpointReply> cps = KIT.createTestProbe();
  private FlowMesh mesh;

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  @AfterEach
  void stop() {
    if (mesh != null) {
      mesh.stop();
    }
  }

  private static VcpuSetup setup(int tlbEntries) {
    return new VcpuSetup(0, 0, OPTIONS, tlbEntries, 16, FlowMesh.LONG, 3, 4, 16);
  }

  private ActorRef<Vcpu.Command> freshVcpu(int tlbEntries) {
    FlowMesh.Vm vm = mesh.vm(0);
    ActorRef<Vcpu.Command> v =
        KIT.spawn(
            Vcpu.create(
                setup(tlbEntries),
                vm.guest,
                vm.hostGate.narrow(),
                mesh.frames,
                mesh.frames.narrow()));
    TestProbe<Vcpu.StatusReport> r = KIT.createTestProbe();
    r.awaitAssert(
        Duration.ofSeconds(30),
        () -> {
          v.tell(new Vcpu.GetCounters(r.getRef()));
          assertThat(r.receiveMessage().state()).isEqualTo(VcpuState.IDLE);
          return null;
        });
    return v;
  }

  private Vcpu.StatusReport status(ActorRef<Vcpu.Command> v) {
    TestProbe<Vcpu.StatusReport> r = KIT.createTestProbe();
    v.tell(new Vcpu.GetCounters(r.getRef()));
    return r.receiveMessage();
  }

  private byte[] checkpoint(ActorRef<Vcpu.Command> v) {
    v.tell(new CheckpointState(1, cps.getRef()));
    return ((StateCheckpoint) cps.receiveMessage()).state().bytes();
  }

  /** One VM whose vCPU faulted in three pages (a store among them) and is idle again. */
  private ActorRef<Vcpu.Command> afterFaults() {
    mesh = new FlowMesh(KIT, OPTIONS, 1, 2);
    for (long gfn = 0; gfn < 3; gfn++) {
      mesh.populate(0, gfn, 0x5EED0000L + gfn);
    }
    mesh.run(
        0,
        FlowMesh.load(FlowMesh.ea(0, 0)),
        FlowMesh.store(FlowMesh.ea(1, 8), 7),
        FlowMesh.load(FlowMesh.ea(2, 16)));
    return mesh.vm(0).vcpu;
  }

  @Test
  void checkpoint_restoredIntoAFreshEntity_givesTheSameBytesStatusAndRunsOn() throws Exception {
    ActorRef<Vcpu.Command> original = afterFaults();
    byte[] state = checkpoint(original);
    VcpuEntityState parsed = VcpuEntityState.parseFrom(state);
    assertThat(parsed.getRunState()).isEqualTo(VcpuRunState.VCPU_RUN_STATE_IDLE);
    assertThat(parsed.getCore().getTlb().getEntryIndexesCount()).isPositive();
    assertThat(parsed.getCachedEsidsCount()).isPositive();
    assertThat(parsed.getLastAcceptedBatchId()).isEqualTo(1);
    Vcpu.StatusReport before = status(original);

    ActorRef<Vcpu.Command> copy = freshVcpu(64);
    assertThat(checkpoint(copy)).isNotEqualTo(state);
    copy.tell(new RestoreState(2, state, cps.getRef()));
    cps.expectMessage(new StateRestored(2, VcpuState.IDLE));
    assertThat(checkpoint(copy)).isEqualTo(state);
    assertThat(status(copy)).isEqualTo(before);

    // The copy continues the numbering and runs the next batch on the restored TLB.
    TestProbe<Vcpu.BatchReply> r = KIT.createTestProbe();
    copy.tell(
        new Vcpu.RunBatch(2, java.util.List.of(FlowMesh.load(FlowMesh.ea(0, 0))), r.getRef()));
    Vcpu.BatchDone done = r.expectMessageClass(Vcpu.BatchDone.class, FlowMesh.LONG);
    assertThat(done.completed()).isEqualTo(1);
  }

  @Test
  void restore_ofAnotherVcpuShapeOrGarbage_isRejectedNamingTheField_andChangesNothing()
      throws Exception {
    byte[] state = checkpoint(afterFaults());
    ActorRef<Vcpu.Command> small = freshVcpu(32);
    byte[] before = checkpoint(small);

    small.tell(new RestoreState(3, state, cps.getRef()));
    assertThat(((Vcpu.Rejected) cps.receiveMessage()).reason()).contains("tlb.size_entries");
    small.tell(new RestoreState(4, new byte[] {1, 2, 3}, cps.getRef()));
    assertThat(((Vcpu.Rejected) cps.receiveMessage()).reason())
        .startsWith("state: not a VcpuEntityState");
    VcpuEntityState own = VcpuEntityState.parseFrom(before);
    small.tell(new RestoreState(5, own.toBuilder().setVm(5).build().toByteArray(), cps.getRef()));
    assertThat(((Vcpu.Rejected) cps.receiveMessage()).reason()).contains("vm");
    small.tell(
        new RestoreState(
            6,
            own.toBuilder()
                .setRunState(VcpuRunState.VCPU_RUN_STATE_UNSPECIFIED)
                .build()
                .toByteArray(),
            cps.getRef()));
    assertThat(((Vcpu.Rejected) cps.receiveMessage()).reason()).startsWith("run_state");
    small.tell(
        new RestoreState(
            7, own.toBuilder().addCachedGuestVsids(9).build().toByteArray(), cps.getRef()));
    assertThat(((Vcpu.Rejected) cps.receiveMessage()).reason()).startsWith("cached_guest_vsids");
    assertThat(checkpoint(small)).isEqualTo(before);
  }

  @Test
  void aStartingVcpu_isNotAtABarrier() {
    TestProbe<GuestMmu.Command> silentGuest = KIT.createTestProbe();
    mesh = new FlowMesh(KIT, OPTIONS, 1, 2);
    ActorRef<Vcpu.Command> v =
        KIT.spawn(
            Vcpu.create(
                setup(64),
                silentGuest.getRef(),
                mesh.vm(0).hostGate.narrow(),
                mesh.frames,
                mesh.frames.narrow()));
    silentGuest.expectMessageClass(GuestMmu.GetMode.class); // never answered: stays STARTING
    v.tell(new CheckpointState(8, cps.getRef()));
    assertThat(((Vcpu.Rejected) cps.receiveMessage()).reason())
        .isEqualTo("not at a barrier: state STARTING; allowed IDLE or HALTED");
    v.tell(new RestoreState(9, new byte[0], cps.getRef()));
    assertThat(((Vcpu.Rejected) cps.receiveMessage()).reason()).startsWith("not at a barrier");
  }
}
