package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.gateway.AccessRequests;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.VcpuRef;
import org.mmumesh.workload.AccessBatch;

/**
 * {@link WorkloadBatches#encode} sends the packed form, which the gateway decodes back into exactly
 * the batch's first {@code n} accesses; store values are left out when they are all zero.
 */
class WorkloadBatchesTest {
  private static final VcpuRef VCPU = VcpuRef.newBuilder().setVmId(7).setVcpuIndex(1).build();

  @Test
  void encode_isPacked_andDecodesToTheBatchsAccesses() {
    Random rnd = new Random(11);
    AccessBatch b = new AccessBatch(3000);
    for (int i = 0; i < 3000; i++) {
      Access k = Access.values()[rnd.nextInt(3)];
      b.add(k, rnd.nextLong(), 8, k == Access.STORE ? rnd.nextLong() : 0);
    }
    RunWorkloadRequest r = WorkloadBatches.encode(VCPU, 42, b, 2500);
    assertThat(r.getAccessesCount()).isZero();
    assertThat(r.getPacked().getKinds().size()).isEqualTo(2500);
    assertThat(r.getPacked().getStoreValuesCount()).isEqualTo(2500);
    assertThat(r.getBatchId()).isEqualTo(42);
    AccessRequests.Batch d = AccessRequests.batch(r, null);
    assertThat(d.vmId()).isEqualTo(7);
    assertThat(d.vcpu()).isEqualTo(1);
    assertThat(d.ops()).hasSize(2500);
    for (int i = 0; i < 2500; i++) {
      assertThat(d.ops().get(i)).isEqualTo(new AccessOp(b.kind(i), b.ea(i), b.value(i)));
    }
  }

  @Test
  void encode_withoutStores_leavesStoreValuesOut() {
    AccessBatch b = new AccessBatch(4);
    b.add(Access.LOAD, 0x1000, 8, 0);
    b.add(Access.IFETCH, 0x2000, 4, 0);
    b.add(Access.STORE, 0x3000, 8, 0);
    RunWorkloadRequest r = WorkloadBatches.encode(VCPU, 1, b, 3);
    assertThat(r.getPacked().getStoreValuesCount()).isZero();
    assertThat(r.getPacked().getKinds().toByteArray()).containsExactly(1, 3, 2);
    assertThat(r.getPacked().getEffectiveAddrsList()).containsExactly(0x1000L, 0x2000L, 0x3000L);
  }
}
