package org.mmumesh.cli;

import com.google.protobuf.ByteString;
import org.mmumesh.common.Access;
import org.mmumesh.proto.v1.AccessKind;
import org.mmumesh.proto.v1.PackedAccesses;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.VcpuRef;
import org.mmumesh.workload.AccessBatch;

/**
 * The one place the Java clients turn a workload's {@link AccessBatch} into a {@code RunWorkload}
 * request ({@code client run}, {@code demo}). It sends the packed encoding ({@code
 * RunWorkloadRequest.packed}: a kind byte per access, the effective addresses and, unless every
 * value is 0, the store values as packed varints), which costs no message per access to build or to
 * parse.
 */
final class WorkloadBatches {
  private WorkloadBatches() {}

  /** The {@code AccessKind} number of each {@link Access}, by ordinal. */
  private static final byte[] KIND_NUMBER = new byte[Access.values().length];

  static {
    for (Access a : Access.values()) {
      KIND_NUMBER[a.ordinal()] =
          (byte)
              switch (a) {
                case LOAD -> AccessKind.ACCESS_KIND_LOAD_VALUE;
                case STORE -> AccessKind.ACCESS_KIND_STORE_VALUE;
                case IFETCH -> AccessKind.ACCESS_KIND_IFETCH_VALUE;
              };
    }
  }

  /** The first {@code n} accesses of {@code b} as batch {@code batchId} of vCPU {@code vcpu}. */
  static RunWorkloadRequest encode(VcpuRef vcpu, long batchId, AccessBatch b, int n) {
    byte[] kinds = new byte[n];
    PackedAccesses.Builder p = PackedAccesses.newBuilder();
    boolean anyValue = false;
    for (int k = 0; k < n; k++) {
      kinds[k] = KIND_NUMBER[b.kindOrdinal(k)];
      p.addEffectiveAddrs(b.ea(k));
      anyValue |= b.value(k) != 0;
    }
    if (anyValue) {
      for (int k = 0; k < n; k++) {
        p.addStoreValues(b.value(k));
      }
    }
    p.setKinds(ByteString.copyFrom(kinds));
    // the Java clients read the counters once at the end (GetVmStats), not with every result
    return RunWorkloadRequest.newBuilder()
        .setVcpu(vcpu)
        .setBatchId(batchId)
        .setPacked(p)
        .setOmitCounters(true)
        .build();
  }
}
