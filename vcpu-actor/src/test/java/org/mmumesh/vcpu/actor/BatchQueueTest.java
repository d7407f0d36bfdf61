package org.mmumesh.vcpu.actor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.Counts;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.CBitWatch;
import org.mmumesh.vcpu.PageFaultHandler;
import org.mmumesh.vcpu.StoreBuffer;
import org.mmumesh.vcpu.Tlb;
import org.mmumesh.vcpu.VcpuCore;
import org.mmumesh.vcpu.actor.VcpuWork.Batch;
import org.slf4j.LoggerFactory;

/** {@link BatchQueue}: the vCPU's accepted batches and the idempotency of {@code RunBatch}. */
class BatchQueueTest {
  private final TestInbox<Vcpu.BatchReply> replies = TestInbox.create();
  private final List<Batch> doneAfterStores = new ArrayList<>();
  private final StoreFlushes flushes =
      new StoreFlushes(
          0,
          0,
          0,
          3,
          new StoreBuffer(4),
          TestInbox.<PageFrame.ApplyStores>create().getRef(),
          TestInbox.<PageFrame.StoresReply>create().getRef(),
          new VcpuCore(
              new Tlb(4),
              new CBitWatch(),
              new PageFaultHandler(MmuOptions.defaults(Policy.FIXED)),
              10,
              Counts.zero()),
          LoggerFactory.getLogger(BatchQueueTest.class),
          () -> 10,
          doneAfterStores::add);
  private final BatchQueue queue = new BatchQueue(flushes);

  private Vcpu.RunBatch batch(long id, int n) {
    List<AccessOp> ops = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ops.add(new AccessOp(Access.LOAD, 0x1000L * i, 0));
    }
    return new Vcpu.RunBatch(id, ops, replies.getRef());
  }

  @Test
  void invalid_namesTheFieldAndTheAllowedRange() {
    assertThat(BatchQueue.invalid(batch(1, 0)))
        .isEqualTo("accesses: 0 accesses is out of range; allowed 1 to 1048576");
    Vcpu.RunBatch noKind =
        new Vcpu.RunBatch(1, List.of(new AccessOp(null, 0, 0)), replies.getRef());
    assertThat(BatchQueue.invalid(noKind)).startsWith("accesses[0]: ").contains("has no kind");
    assertThat(BatchQueue.invalid(batch(1, 2))).isNull();
  }

  @Test
  void accept_wantsIncreasingIds_andAtMostMaxOutstanding_andRunsBatchesInOrder() {
    assertThat(queue.accept(batch(5, 1), 2)).isNull();
    assertThat(queue.accept(batch(5, 1), 2)).startsWith("batchId: 5 is not above");
    assertThat(queue.accept(batch(4, 1), 2)).startsWith("batchId: 4 is not above");
    assertThat(queue.accept(batch(6, 1), 2)).isNull();
    assertThat(queue.accept(batch(7, 1), 2))
        .startsWith("batches: 2 outstanding; allowed at most 2");
    assertThat(queue.outstanding()).isEqualTo(2);

    assertThat(queue.current().batchId).isEqualTo(5);
    assertThat(queue.current().batchId).isEqualTo(5); // until finished
    assertThat(queue.finish().batchId).isEqualTo(5);
    assertThat(queue.outstanding()).isEqualTo(1);
    assertThat(queue.current().batchId).isEqualTo(6);
    queue.finish();
    assertThat(queue.current()).isNull();
  }

  @Test
  void aRetryJoinsTheOutstandingBatch_andTheLastDoneIsAnsweredFromMemory() {
    queue.accept(batch(1, 1), 4);
    TestInbox<Vcpu.BatchReply> retry = TestInbox.create();
    assertThat(queue.joined(new Vcpu.RunBatch(1, List.of(), retry.getRef()))).isTrue();
    Batch b = queue.current();
    b.completed = 1;
    b.pos = 1;
    queue.finish();
    queue.done(b, Counts.zero());
    Vcpu.BatchDone done = (Vcpu.BatchDone) replies.receiveMessage();
    assertThat(done.batchId()).isEqualTo(1);
    assertThat(done.completed()).isEqualTo(1);
    assertThat(retry.receiveMessage()).isEqualTo(done); // joined: answered once with the others

    TestInbox<Vcpu.BatchReply> late = TestInbox.create();
    assertThat(queue.joined(new Vcpu.RunBatch(1, List.of(), late.getRef()))).isTrue();
    assertThat(late.receiveMessage()).isEqualTo(done);
    assertThat(queue.joined(new Vcpu.RunBatch(2, List.of(), late.getRef()))).isFalse();
  }

  @Test
  void aTracedAccessBatch_isNoOutstandingBatch() {
    Batch traced = new Batch(VcpuWork.NONE, List.of(new AccessOp(Access.LOAD, 0, 0)), null);
    queue.run(traced);
    assertThat(queue.outstanding()).isZero();
    assertThat(queue.current()).isSameAs(traced);
  }
}
