package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.proto.v1.AccessKind;
import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.CreateVmRequest;
import org.mmumesh.proto.v1.GetVmStatsRequest;
import org.mmumesh.proto.v1.HostMmuKind;
import org.mmumesh.proto.v1.MmuKind;
import org.mmumesh.proto.v1.MmuOptions;
import org.mmumesh.proto.v1.PackedAccesses;
import org.mmumesh.proto.v1.Policy;
import org.mmumesh.proto.v1.ReadMemoryRequest;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.RunWorkloadResponse;
import org.mmumesh.proto.v1.VmRef;
import org.mmumesh.proto.v1.WorkloadAccess;

/**
 * The two RunWorkload encodings are the same batches: one seeded workload (loads, stores with
 * values, instruction fetches, a few accesses outside the guest's window that fail) streamed to one
 * VM as {@code accesses} and to an identical VM on an identical host as {@code packed} gives the
 * same result for every batch (completed, failed, the failure texts, the vCPU's counters), the same
 * VM statistics and the same guest memory; for a 64-bit and a 32-bit guest.
 */
class PackedWorkloadEndToEndTest {
  private static final long WINDOW = 0x1000_0000L;
  private static Mesh mesh;

  @BeforeAll
  static void start() {
    mesh = new Mesh();
  }

  @AfterAll
  static void stop() {
    mesh.close();
  }

  /** One access of the workload. */
  record Op(int kind, long ea, long value) {}

  /** Batches of 1, 700 and 3000 accesses over 40 window pages, seeded. */
  static List<List<Op>> workload(long seed) {
    Random rnd = new Random(seed);
    List<List<Op>> batches = new ArrayList<>();
    for (int size : new int[] {1, 700, 3000}) {
      List<Op> b = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        int kind = 1 + rnd.nextInt(3);
        long ea =
            rnd.nextInt(50) == 0
                ? 0x7000_0000L + rnd.nextInt(16) * 4096L // outside the window: a failure
                : WINDOW + rnd.nextInt(40) * 4096L + rnd.nextInt(512) * 8L;
        b.add(new Op(kind, ea, kind == 2 ? rnd.nextLong() : 0));
      }
      batches.add(b);
    }
    return batches;
  }

  static List<RunWorkloadRequest> classic(int vm, List<List<Op>> batches) {
    List<RunWorkloadRequest> out = new ArrayList<>();
    for (int k = 0; k < batches.size(); k++) {
      RunWorkloadRequest.Builder r = RunWorkloadRequest.newBuilder().setBatchId(100 + k);
      if (k == 0) {
        r.setVcpu(MalformedRequests.vcpu(vm, 0));
      }
      for (Op o : batches.get(k)) {
        r.addAccesses(
            WorkloadAccess.newBuilder()
                .setKind(AccessKind.forNumber(o.kind()))
                .setEffectiveAddr(o.ea())
                .setStoreValue(o.value()));
      }
      out.add(r.build());
    }
    return out;
  }

  static List<RunWorkloadRequest> packed(int vm, List<List<Op>> batches) {
    List<RunWorkloadRequest> out = new ArrayList<>();
    for (int k = 0; k < batches.size(); k++) {
      List<Op> b = batches.get(k);
      byte[] kinds = new byte[b.size()];
      PackedAccesses.Builder p = PackedAccesses.newBuilder();
      boolean anyValue = b.stream().anyMatch(o -> o.value() != 0);
      for (int i = 0; i < b.size(); i++) {
        kinds[i] = (byte) b.get(i).kind();
        p.addEffectiveAddrs(b.get(i).ea());
        if (anyValue) {
          p.addStoreValues(b.get(i).value());
        }
      }
      p.setKinds(ByteString.copyFrom(kinds));
      // every vCPU reference after the first is optional: send it on every batch here
      out.add(
          RunWorkloadRequest.newBuilder()
              .setBatchId(100 + k)
              .setVcpu(MalformedRequests.vcpu(vm, 0))
              .setPacked(p)
              .build());
    }
    return out;
  }

  /** A host and a VM of the given width with the same id, for one encoding. */
  static void createGuest(int id, boolean is64) {
    mesh.hosts()
        .createHost(
            CreateHostRequest.newBuilder()
                .setHostId(id)
                .setHostMmu(HostMmuKind.HOST_MMU_KIND_64)
                .setMaxFrames(8192)
                .build());
    mesh.vms()
        .createVm(
            CreateVmRequest.newBuilder()
                .setVmId(id)
                .setHostId(id)
                .setMmuKind(is64 ? MmuKind.MMU_KIND_BOOK3S_64 : MmuKind.MMU_KIND_BOOK3S_32)
                .setMemorySizeBytes(1 << 20)
                .setVcpuCount(1)
                .setOptions(
                    MmuOptions.newBuilder()
                        .setPolicy(Policy.POLICY_LEGACY)
                        .setUsePolicyDefaults(true))
                .build());
  }

  private static void sameResults(int classicVm, int packedVm, boolean is64, long seed)
      throws InterruptedException {
    createGuest(classicVm, is64);
    createGuest(packedVm, is64);
    List<List<Op>> w = workload(seed);
    List<Object> a = mesh.runWorkload(classic(classicVm, w));
    List<Object> b = mesh.runWorkload(packed(packedVm, w));
    assertThat(a).hasSize(w.size() + 1).last().isEqualTo("completed");
    assertThat(b).hasSize(w.size() + 1).last().isEqualTo("completed");
    long failed = 0;
    for (int k = 0; k < w.size(); k++) {
      RunWorkloadResponse x = (RunWorkloadResponse) a.get(k);
      RunWorkloadResponse y = (RunWorkloadResponse) b.get(k);
      assertThat(x.getCompleted() + x.getFailed()).isEqualTo(w.get(k).size());
      assertThat(withoutVm(y, packedVm)).as("batch " + k).isEqualTo(withoutVm(x, classicVm));
      failed += x.getFailed();
    }
    assertThat(failed).as("the workload exercises failures too").isPositive();
    assertThat(stats(packedVm)).isEqualTo(stats(classicVm));
    assertThat(memory(packedVm)).isEqualTo(memory(classicVm));
  }

  /** {@code r} with the VM's id taken out of its failure texts ("vm 70 vcpu 0 LOAD at ..."). */
  private static RunWorkloadResponse withoutVm(RunWorkloadResponse r, int vm) {
    RunWorkloadResponse.Builder b = r.toBuilder().clearFailures();
    for (String f : r.getFailuresList()) {
      assertThat(f).startsWith("vm " + vm + " ");
      b.addFailures(f.replace("vm " + vm + " ", "vm N "));
    }
    return b.build();
  }

  private static Object stats(int vm) {
    return mesh.vms()
        .getVmStats(GetVmStatsRequest.newBuilder().setVm(VmRef.newBuilder().setVmId(vm)).build())
        .getCountersList();
  }

  private static List<Long> memory(int vm) {
    return mesh.vms()
        .readMemory(
            ReadMemoryRequest.newBuilder()
                .setVm(VmRef.newBuilder().setVmId(vm))
                .setPages(256)
                .build())
        .getFingerprintsList();
  }

  @Test
  void packedAndClassicBatches_giveIdenticalResults_on64BitGuests() throws Exception {
    sameResults(70, 71, true, 5);
  }

  @Test
  void packedAndClassicBatches_giveIdenticalResults_on32BitGuests() throws Exception {
    sameResults(72, 73, false, 6);
  }
}
