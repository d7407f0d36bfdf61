package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmumesh.proto.v1.AccessKind;
import org.mmumesh.proto.v1.AccessRequest;
import org.mmumesh.proto.v1.AccessTrace;
import org.mmumesh.proto.v1.CreateVmResponse;
import org.mmumesh.proto.v1.FaultKind;
import org.mmumesh.proto.v1.FaultTrace;
import org.mmumesh.proto.v1.GetVmRequest;
import org.mmumesh.proto.v1.InsertHpteRequest;
import org.mmumesh.proto.v1.Policy;
import org.mmumesh.proto.v1.SetVcpuStateRequest;
import org.mmumesh.proto.v1.SlbEntry;
import org.mmumesh.proto.v1.XlateStatus;

/**
 * {@code SetVcpuStateRequest.sdr1} end to end, through a real channel to the gateway over a real
 * single-node mesh: the vCPU's guest xlate and {@code InsertHpte} follow its SDR1, its shadow PTEs
 * are flushed, and the old table's entries stay in guest memory (Linux {@code
 * kvmppc_core_emulate_mtspr_pr}: {@code to_book3s(vcpu)->sdr1 = spr_val; kvmppc_mmu_pte_flush(vcpu,
 * 0, 0)}).
 *
 * <p>The accessed page lies outside the guest kernel model's linear-map window, so the guest never
 * demand-maps it on its own: the only HPTEs for it are the ones the test inserts, each with its own
 * guest frame (9 in the first table, 10 in the second), so the guest-real address an access uses
 * tells which table translated it.
 */
class Sdr1EndToEndTest {
  private static final long WINDOW = 0x1000_0000L;
  private static final long OLD_GFN = 9;
  private static final long NEW_GFN = 10;
  private static Mesh mesh;

  @BeforeAll
  static void start() {
    mesh = new Mesh();
    mesh.hosts().createHost(SimulationEndToEndTest.host(70, false));
  }

  @AfterAll
  static void stop() {
    mesh.close();
  }

  /** The SDR1 naming the table at {@code origin} of {@code size} bytes. */
  private static long sdr1(boolean is64, long origin, long size) {
    long field =
        is64 ? Long.numberOfTrailingZeros(size) - 18 : (size >>> 16) - 1; // HTABSIZE or HTABMASK
    return origin | field;
  }

  private static void setSdr1(int vm, long sdr1) {
    mesh.vms()
        .setVcpuState(
            SetVcpuStateRequest.newBuilder()
                .setVcpu(MalformedRequests.vcpu(vm, 0))
                .setSdr1(sdr1)
                .build());
  }

  private static long insert(int vm, long ea, long gfn) {
    return mesh.vms()
        .insertHpte(
            InsertHpteRequest.newBuilder()
                .setVcpu(MalformedRequests.vcpu(vm, 0))
                .setEffectiveAddr(ea)
                .setGuestFrame(gfn)
                .setPp(2)
                .build())
        .getHpteGuestRealAddr();
  }

  private static AccessTrace load(int vm, long ea) {
    return mesh.access()
        .access(
            AccessRequest.newBuilder()
                .setVcpu(MalformedRequests.vcpu(vm, 0))
                .setKind(AccessKind.ACCESS_KIND_LOAD)
                .setEffectiveAddr(ea)
                .build())
        .getTrace();
  }

  @ParameterizedTest(name = "64-bit guest: {0}")
  @ValueSource(booleans = {true, false})
  void sdr1_movesTheVcpuToAnotherTable_flushesItsShadowPtes_andSwitchingBackFindsTheOldEntry(
      boolean is64) {
    int vm = is64 ? 71 : 72;
    CreateVmResponse created =
        mesh.vms().createVm(SimulationEndToEndTest.vm(vm, 70, is64, Policy.POLICY_STRICT, false));
    long size = created.getHtabSizeBytes();
    long oldOrigin = created.getHtabGuestRealAddr();
    long newOrigin = oldOrigin - size; // below it, aligned to the size as the old one is
    long ea = WINDOW + ((1L << 20) - 4096) + 0x10; // the last page: outside the window
    if (is64) {
      // InsertHpte hashes through the vCPU's SLB: load the segment as the guest kernel would
      // (VSID 0x1000 + esid * 0x101, Kp=1; slbmte rs, rb with rb = ESID | V | index 0)
      long esid = ea >>> 28;
      mesh.vms()
          .setVcpuState(
              SetVcpuStateRequest.newBuilder()
                  .setVcpu(MalformedRequests.vcpu(vm, 0))
                  .addSlbEntries(
                      SlbEntry.newBuilder()
                          .setIndex(0)
                          .setRs(((0x1000L + esid * 0x101L) << 12) | 0x400L)
                          .setRb((esid << 28) | 0x08000000L))
                  .build());
    }

    // an HPTE in the creation-time table: the first load faults and maps, the second hits
    long oldPte = insert(vm, ea, OLD_GFN);
    assertThat(oldPte).isBetween(oldOrigin, oldOrigin + size - 1);
    AccessTrace first = load(vm, ea);
    assertThat(first.getCompleted()).as(first.getFailure()).isTrue();
    assertThat(first.getGuestRealAddr()).isEqualTo((OLD_GFN << 12) | 0x10);
    AccessTrace hit = load(vm, ea);
    assertThat(hit.getFaultsList()).isEmpty();
    assertThat(hit.getTlbHit() || hit.getHostHpteHit()).isTrue();

    // mtspr SDR1: the shadow PTE is gone (NOHPTE), the new table has no entry: reflected
    setSdr1(vm, sdr1(is64, newOrigin, size));
    AccessTrace moved = load(vm, ea);
    assertThat(moved.getCompleted()).isFalse();
    assertThat(moved.getTlbHit() || moved.getHostHpteHit()).isFalse();
    FaultTrace fault = moved.getFaults(0);
    assertThat(fault.getKind()).isEqualTo(FaultKind.FAULT_KIND_NOHPTE);
    assertThat(fault.getXlate().getStatus()).isEqualTo(XlateStatus.XLATE_STATUS_ENOENT);
    assertThat(moved.getFaultsList())
        .anySatisfy(f -> assertThat(f.getReflected().getKind()).isEqualTo("not_found"));

    // InsertHpte goes to the vCPU's current table; the access then uses it
    long newPte = insert(vm, ea, NEW_GFN);
    assertThat(newPte).isBetween(newOrigin, newOrigin + size - 1);
    AccessTrace again = load(vm, ea);
    assertThat(again.getCompleted()).as(again.getFailure()).isTrue();
    assertThat(again.getGuestRealAddr()).isEqualTo((NEW_GFN << 12) | 0x10);

    // back to the old SDR1: flushed again, and the old entry translates without a reflection
    setSdr1(vm, sdr1(is64, oldOrigin, size));
    AccessTrace back = load(vm, ea);
    assertThat(back.getCompleted()).as(back.getFailure()).isTrue();
    assertThat(back.getFaults(0).getKind()).isEqualTo(FaultKind.FAULT_KIND_NOHPTE);
    assertThat(back.getFaultsList()).noneMatch(FaultTrace::hasReflected);
    assertThat(back.getGuestRealAddr()).isEqualTo((OLD_GFN << 12) | 0x10);

    // GetVm keeps reporting the creation-time table; a refused sdr1 changes nothing
    assertThat(
            mesh.vms()
                .getVm(GetVmRequest.newBuilder().setVm(SimulationEndToEndTest.ref(vm)).build())
                .getHtabGuestRealAddr())
        .isEqualTo(oldOrigin);
    Status refused =
        Mesh.statusOf(() -> setSdr1(vm, sdr1(is64, oldOrigin + size, size))); // beyond memory
    assertThat(refused.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(refused.getDescription()).startsWith("changes[0] sdr1: the HTAB");
    AccessTrace still = load(vm, ea);
    assertThat(still.getCompleted()).isTrue();
    assertThat(still.getFaultsList()).isEmpty();
  }
}
