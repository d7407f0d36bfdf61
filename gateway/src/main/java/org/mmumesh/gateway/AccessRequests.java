package org.mmumesh.gateway;

import org.mmumesh.common.Access;
import org.mmumesh.proto.v1.AccessRequest;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.WorkloadAccess;

/**
 * Validated AccessService requests. The effective-address width (32 bits on a 32-bit guest) is
 * checked against the VM.
 */
public final class AccessRequests {
  private AccessRequests() {}

  /** One access. */
  public record Single(int vmId, int vcpu, Access kind, long ea, long value) {}

  /**
   * A batch: kinds as {@link Access} ordinals, effective addresses and store values, parallel
   * arrays.
   */
  public record Batch(int vmId, int vcpu, long batchId, byte[] kinds, long[] eas, long[] values) {}

  /** Validates {@code r}. */
  public static Single single(AccessRequest r) {
    int[] v = VmRequests.vcpu("vcpu", r.hasVcpu(), r.getVcpu());
    Access kind = ProtoMapping.access("kind", r.getKind());
    return new Single(v[0], v[1], kind, r.getEffectiveAddr(), r.getStoreValue());
  }

  /**
   * Validates a stream message; {@code streamVcpu} is the vCPU named by the stream's first message
   * (null for the first message itself).
   */
  public static Batch batch(RunWorkloadRequest r, int[] streamVcpu) {
    int[] v;
    if (streamVcpu == null) {
      v = VmRequests.vcpu("vcpu", r.hasVcpu(), r.getVcpu());
    } else if (r.hasVcpu()) {
      v = VmRequests.vcpu("vcpu", true, r.getVcpu());
      if (v[0] != streamVcpu[0] || v[1] != streamVcpu[1]) {
        throw GatewayException.badField(
            "vcpu",
            "vm "
                + v[0]
                + " vcpu "
                + v[1]
                + " differs from the stream's vm "
                + streamVcpu[0]
                + " vcpu "
                + streamVcpu[1]
                + " (one vCPU per stream)");
      }
    } else {
      v = streamVcpu;
    }
    int n = Fields.count("accesses", r.getAccessesCount(), 1, Limits.MAX_BATCH_ACCESSES);
    byte[] kinds = new byte[n];
    long[] eas = new long[n];
    long[] values = new long[n];
    for (int i = 0; i < n; i++) {
      WorkloadAccess a = r.getAccesses(i);
      kinds[i] = (byte) ProtoMapping.access("accesses[" + i + "].kind", a.getKind()).ordinal();
      eas[i] = a.getEffectiveAddr();
      values[i] = a.getStoreValue();
    }
    return new Batch(v[0], v[1], r.getBatchId(), kinds, eas, values);
  }
}
