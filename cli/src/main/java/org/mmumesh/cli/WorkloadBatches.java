package org.mmumesh.cli;

import org.mmumesh.proto.v1.AccessKind;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.VcpuRef;
import org.mmumesh.proto.v1.WorkloadAccess;
import org.mmumesh.workload.AccessBatch;

/**
 * The one place the Java clients turn a workload's {@link AccessBatch} into a {@code RunWorkload}
 * request ({@code client run}, {@code demo}).
 */
final class WorkloadBatches {
  private WorkloadBatches() {}

  /** The first {@code n} accesses of {@code b} as batch {@code batchId} of vCPU {@code vcpu}. */
  static RunWorkloadRequest encode(VcpuRef vcpu, long batchId, AccessBatch b, int n) {
    RunWorkloadRequest.Builder r =
        RunWorkloadRequest.newBuilder().setVcpu(vcpu).setBatchId(batchId);
    for (int k = 0; k < n; k++) {
      r.addAccesses(
          WorkloadAccess.newBuilder()
              .setKind(AccessKind.forNumber(b.kindOrdinal(k) + 1))
              .setEffectiveAddr(b.ea(k))
              .setStoreValue(b.value(k)));
    }
    return r.build();
  }
}
