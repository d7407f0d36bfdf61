package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.proto.v1.AccessKind;
import org.mmumesh.proto.v1.PackedAccesses;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.WorkloadAccess;

/**
 * {@link AccessRequests#batch} decodes both RunWorkload encodings into the same vCPU ops, and
 * {@link AccessRequests#checkEffectiveAddrs} names the field in the batch's own encoding.
 */
class PackedBatchDecodingTest {
  @Test
  void packedAndClassic_decodeToTheSameOps() {
    Random rnd = new Random(42);
    for (int round = 0; round < 20; round++) {
      int n = 1 + rnd.nextInt(2000);
      RunWorkloadRequest.Builder classic =
          RunWorkloadRequest.newBuilder().setVcpu(MalformedRequests.vcpu(3, 1)).setBatchId(round);
      PackedAccesses.Builder p = PackedAccesses.newBuilder();
      byte[] kinds = new byte[n];
      for (int i = 0; i < n; i++) {
        int kind = 1 + rnd.nextInt(3);
        long ea = rnd.nextLong();
        long value = rnd.nextLong();
        classic.addAccesses(
            WorkloadAccess.newBuilder()
                .setKind(AccessKind.forNumber(kind))
                .setEffectiveAddr(ea)
                .setStoreValue(value));
        kinds[i] = (byte) kind;
        p.addEffectiveAddrs(ea).addStoreValues(value);
      }
      p.setKinds(ByteString.copyFrom(kinds));
      RunWorkloadRequest packed = classic.clone().clearAccesses().setPacked(p).build();
      AccessRequests.Batch a = AccessRequests.batch(classic.build(), null);
      AccessRequests.Batch b = AccessRequests.batch(packed, null);
      assertThat(b.ops()).hasSize(n).isEqualTo(a.ops());
      assertThat(b.packed()).isTrue();
      assertThat(a.packed()).isFalse();
      assertThat(b.vmId()).isEqualTo(3);
      assertThat(b.vcpu()).isEqualTo(1);
      assertThat(b.batchId()).isEqualTo(round);
    }
  }

  @Test
  void packedWithoutStoreValues_storesZero() {
    RunWorkloadRequest r =
        RunWorkloadRequest.newBuilder()
            .setVcpu(MalformedRequests.vcpu(1, 0))
            .setPacked(MalformedRequests.packed(new byte[] {2, 1, 3}, 0x10, 0x20, 0x30))
            .build();
    assertThat(AccessRequests.batch(r, null).ops())
        .containsExactly(
            new AccessOp(Access.STORE, 0x10, 0),
            new AccessOp(Access.LOAD, 0x20, 0),
            new AccessOp(Access.IFETCH, 0x30, 0));
  }

  @Test
  void packedLaterMessage_withoutVcpu_usesTheStreams() {
    RunWorkloadRequest r =
        RunWorkloadRequest.newBuilder()
            .setPacked(MalformedRequests.packed(new byte[] {1}, 0x10))
            .build();
    AccessRequests.Batch b = AccessRequests.batch(r, new int[] {4, 2});
    assertThat(b.vmId()).isEqualTo(4);
    assertThat(b.vcpu()).isEqualTo(2);
  }

  @Test
  void effectiveAddrBeyond32Bits_onA32BitGuest_namesTheFieldOfItsEncoding() {
    RunWorkloadRequest packed =
        RunWorkloadRequest.newBuilder()
            .setVcpu(MalformedRequests.vcpu(2, 0))
            .setPacked(MalformedRequests.packed(new byte[] {1, 1, 1}, 0, 0xFFFF_FFFFL, 1L << 32))
            .build();
    AccessRequests.Batch b = AccessRequests.batch(packed, null);
    AccessRequests.checkEffectiveAddrs(b, true); // any address fits a 64-bit guest
    assertThatThrownBy(() -> AccessRequests.checkEffectiveAddrs(b, false))
        .isInstanceOf(GatewayException.class)
        .hasMessageStartingWith("packed.effective_addrs[2]: 0x100000000 exceeds 32 bits");
    AccessRequests.Batch c =
        AccessRequests.batch(
            RunWorkloadRequest.newBuilder()
                .setVcpu(MalformedRequests.vcpu(2, 0))
                .addAccesses(MalformedRequests.load(0))
                .addAccesses(MalformedRequests.load(-1L))
                .build(),
            null);
    assertThatThrownBy(() -> AccessRequests.checkEffectiveAddrs(c, false))
        .hasMessageStartingWith("accesses[1].effective_addr: 0xffffffffffffffff exceeds 32 bits");
  }
}
