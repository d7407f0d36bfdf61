package org.mmumesh.gateway;

import com.google.protobuf.ByteString;
import java.util.List;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.proto.v1.AccessKind;
import org.mmumesh.proto.v1.AccessRequest;
import org.mmumesh.proto.v1.PackedAccesses;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.WorkloadAccess;

/**
 * Validated AccessService requests.
 *
 * <p>A workload batch comes in one of two encodings ({@code RunWorkloadRequest}): {@code accesses},
 * a {@code WorkloadAccess} message per access, or {@code packed}, parallel arrays ({@code kinds} a
 * byte per access, {@code effective_addrs}, {@code store_values} empty or one per access). Exactly
 * one is set. Both decode straight into the simulation's {@link AccessOp}s (no intermediate
 * arrays); the packed form without a proto object per access. The effective-address width (32 bits
 * on a 32-bit guest) needs the VM's MMU kind and is checked by {@link #checkEffectiveAddrs} when a
 * batch has an address beyond 32 bits (the stream then asks the VM's kind once); every refusal
 * names the field in the encoding the client used ({@code accesses[i].effective_addr} or {@code
 * packed.effective_addrs[i]}).
 */
public final class AccessRequests {
  private AccessRequests() {}

  /** The largest effective address of a 32-bit guest. */
  static final long EA32 = 0xFFFF_FFFFL;

  /** {@link Access} by {@code AccessKind} number, as {@link ProtoMapping#access} maps it. */
  private static final Access[] BY_KIND_NUMBER =
      new Access[AccessKind.ACCESS_KIND_IFETCH_VALUE + 1];

  static {
    for (int n = 1; n < BY_KIND_NUMBER.length; n++) {
      BY_KIND_NUMBER[n] = ProtoMapping.access("kind", n);
    }
  }

  /** One access. */
  public record Single(int vmId, int vcpu, Access kind, long ea, long value) {}

  /**
   * A batch: the vCPU's accesses in order (an immutable list), whether it came {@code packed}
   * (which decides how a field is named in a refusal), and whether an effective address is beyond
   * 32 bits (only then does the VM's width matter).
   */
  public record Batch(
      int vmId, int vcpu, long batchId, List<AccessOp> ops, boolean packed, boolean beyond32Bits) {
    /** The request's name for access {@code i}'s effective address. */
    public String eaField(int i) {
      return packed ? "packed.effective_addrs[" + i + "]" : "accesses[" + i + "].effective_addr";
    }
  }

  /** Validates {@code r}. */
  public static Single single(AccessRequest r) {
    int[] v = VmRequests.vcpu("vcpu", r.hasVcpu(), r.getVcpu());
    Access kind = ProtoMapping.access("kind", r.getKindValue());
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
    if (r.hasPacked()) {
      if (r.getAccessesCount() > 0) {
        throw GatewayException.badField(
            "packed",
            "is set together with accesses ("
                + r.getAccessesCount()
                + " entries); send a batch in exactly one encoding");
      }
      return batch(v, r.getBatchId(), packed(r.getPacked()), true);
    }
    return batch(v, r.getBatchId(), classic(r), false);
  }

  private static Batch batch(int[] v, long batchId, AccessOp[] ops, boolean packed) {
    long high = 0;
    for (AccessOp op : ops) {
      high |= op.ea();
    }
    return new Batch(v[0], v[1], batchId, List.of(ops), packed, (high >>> 32) != 0);
  }

  /** The {@code accesses} encoding: a message per access. */
  private static AccessOp[] classic(RunWorkloadRequest r) {
    int n = r.getAccessesCount();
    if (n < 1 || n > Limits.MAX_BATCH_ACCESSES) {
      throw GatewayException.badField(
          "accesses",
          n
              + " entries is outside the allowed range 1 .. "
              + Limits.MAX_BATCH_ACCESSES
              + " (or send the batch as packed)");
    }
    AccessOp[] ops = new AccessOp[n];
    for (int i = 0; i < n; i++) {
      WorkloadAccess a = r.getAccesses(i);
      int k = a.getKindValue();
      Access kind = k > 0 && k < BY_KIND_NUMBER.length ? BY_KIND_NUMBER[k] : null;
      if (kind == null) { // the field's name is built only for a refusal
        kind = ProtoMapping.access("accesses[" + i + "].kind", k);
      }
      ops[i] = new AccessOp(kind, a.getEffectiveAddr(), a.getStoreValue());
    }
    return ops;
  }

  /** The {@code packed} encoding: parallel arrays, lengths checked before anything is decoded. */
  private static AccessOp[] packed(PackedAccesses p) {
    ByteString kinds = p.getKinds();
    int n = Fields.count("packed.kinds", kinds.size(), 1, Limits.MAX_BATCH_ACCESSES);
    if (p.getEffectiveAddrsCount() != n) {
      throw GatewayException.badField(
          "packed.effective_addrs",
          p.getEffectiveAddrsCount()
              + " entries, but packed.kinds has "
              + n
              + " (one effective address per access)");
    }
    int values = p.getStoreValuesCount();
    if (values != 0 && values != n) {
      throw GatewayException.badField(
          "packed.store_values",
          values
              + " entries; allowed 0 (every store writes 0) or "
              + n
              + " (one per access, as packed.kinds)");
    }
    AccessOp[] ops = new AccessOp[n];
    for (int i = 0; i < n; i++) {
      int k = kinds.byteAt(i) & 0xFF;
      Access kind = k < BY_KIND_NUMBER.length ? BY_KIND_NUMBER[k] : null;
      if (kind == null) {
        throw GatewayException.badField(
            "packed.kinds[" + i + "]",
            k
                + " is not allowed; use an AccessKind number: 1 (ACCESS_KIND_LOAD), 2"
                + " (ACCESS_KIND_STORE) or 3 (ACCESS_KIND_IFETCH)");
      }
      ops[i] = new AccessOp(kind, p.getEffectiveAddrs(i), values == 0 ? 0 : p.getStoreValues(i));
    }
    return ops;
  }

  /**
   * Checks {@code b}'s effective addresses against the VM's width: on a 32-bit guest ({@code is64}
   * false) each must fit in 32 bits; a refusal names the first offending access in the batch's own
   * encoding.
   */
  public static void checkEffectiveAddrs(Batch b, boolean is64) {
    if (is64 || !b.beyond32Bits()) {
      return;
    }
    List<AccessOp> ops = b.ops();
    for (int i = 0; i < ops.size(); i++) {
      long ea = ops.get(i).ea();
      if (Long.compareUnsigned(ea, EA32) > 0) {
        throw GatewayException.badField(
            b.eaField(i),
            "0x"
                + Long.toHexString(ea)
                + " exceeds 32 bits on 32-bit vm "
                + b.vmId()
                + "; allowed 0 .. 0xffffffff");
      }
    }
  }
}
