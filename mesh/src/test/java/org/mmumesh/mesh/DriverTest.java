package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.vcpu.actor.Vcpu;
import org.mmumesh.workload.WorkloadParser;
import org.mmumesh.workload.WorkloadSpec;

/**
 * The driver against a probe standing for the vCPU: each batch's accesses are counted once
 * (invariant 6) whatever the answers' duplicates, and an unanswered batch is sent again with its
 * id. 300 accesses in batches of at most 256, two outstanding: batch 1 has 256, batch 2 has 44.
 */
class DriverTest {
  private static final ActorTestKit kit =
      ActorTestKit.create(ManualTime.config().withFallback(ConfigFactory.load()));
  private static final ManualTime time = ManualTime.get(kit.system());
  private static final Duration RESEND = Duration.ofSeconds(5);
  private static final WorkloadSpec SPEC =
      WorkloadParser.parse("uniform:vms=1,vcpus=1,pages=8,read=0.5,accesses=300,seed=7");

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  private static CompletableFuture<Driver.Outcome> start(TestProbe<Vcpu.Command> vcpu) {
    CompletableFuture<Driver.Outcome> done = new CompletableFuture<>();
    kit.spawn(Driver.create(0, 0, vcpu.getRef(), SPEC.sourceFor(0, 0), 256, 2, RESEND, done));
    return done;
  }

  private static Driver.Outcome outcome(CompletableFuture<Driver.Outcome> done) throws Exception {
    return done.get(10, TimeUnit.SECONDS);
  }

  private static Vcpu.BatchDone doneOf(Vcpu.RunBatch b) {
    return new Vcpu.BatchDone(b.batchId(), b.accesses().size(), 0, List.of(), null);
  }

  @Test
  void driver_countsADuplicateBatchDoneOnce() throws Exception {
    TestProbe<Vcpu.Command> vcpu = kit.createTestProbe();
    CompletableFuture<Driver.Outcome> done = start(vcpu);
    Vcpu.RunBatch b1 = vcpu.expectMessageClass(Vcpu.RunBatch.class);
    Vcpu.RunBatch b2 = vcpu.expectMessageClass(Vcpu.RunBatch.class);
    assertThat(b1.batchId()).isEqualTo(1);
    assertThat(b2.batchId()).isEqualTo(2);
    assertThat(b1.accesses().size() + b2.accesses().size()).isEqualTo(300);
    b1.replyTo().tell(doneOf(b1));
    b1.replyTo().tell(doneOf(b1));
    b2.replyTo().tell(doneOf(b2));
    Driver.Outcome o = outcome(done);
    assertThat(o.completed()).isEqualTo(300);
    assertThat(o.failed()).isZero();
  }

  @Test
  void driver_resendsAnUnansweredBatchWithTheSameId_afterResendAfter() throws Exception {
    TestProbe<Vcpu.Command> vcpu = kit.createTestProbe();
    CompletableFuture<Driver.Outcome> done = start(vcpu);
    Vcpu.RunBatch b1 = vcpu.expectMessageClass(Vcpu.RunBatch.class);
    Vcpu.RunBatch b2 = vcpu.expectMessageClass(Vcpu.RunBatch.class);
    b2.replyTo().tell(doneOf(b2));
    vcpu.expectNoMessage(Duration.ofMillis(100));
    time.timePasses(RESEND);
    Vcpu.RunBatch again = vcpu.expectMessageClass(Vcpu.RunBatch.class);
    assertThat(again).isEqualTo(b1);
    vcpu.expectNoMessage(Duration.ofMillis(100));
    again.replyTo().tell(doneOf(again));
    b1.replyTo().tell(doneOf(b1));
    Driver.Outcome o = outcome(done);
    assertThat(o.completed()).isEqualTo(300);
    assertThat(o.failed()).isZero();
  }

  @Test
  void driver_countsARejectedBatchFailedWithTheReason_andIgnoresALaterAnswerForIt()
      throws Exception {
    TestProbe<Vcpu.Command> vcpu = kit.createTestProbe();
    CompletableFuture<Driver.Outcome> done = start(vcpu);
    Vcpu.RunBatch b1 = vcpu.expectMessageClass(Vcpu.RunBatch.class);
    Vcpu.RunBatch b2 = vcpu.expectMessageClass(Vcpu.RunBatch.class);
    b1.replyTo().tell(new Vcpu.Rejected(1, Vcpu.VcpuState.HALTED, "RunBatch: halted"));
    b1.replyTo().tell(doneOf(b1));
    b2.replyTo().tell(doneOf(b2));
    Driver.Outcome o = outcome(done);
    assertThat(o.completed()).isEqualTo(b2.accesses().size());
    assertThat(o.failed()).isEqualTo(b1.accesses().size());
    assertThat(o.completed() + o.failed()).isEqualTo(300);
    assertThat(o.failures()).singleElement().asString().contains("batch 1 rejected: RunBatch");
  }
}
