package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.proto.v1.AccessKind;
import org.mmumesh.proto.v1.AccessRequest;
import org.mmumesh.proto.v1.AccessServiceGrpc;
import org.mmumesh.proto.v1.AccessTrace;
import org.mmumesh.proto.v1.AddMemslotRequest;
import org.mmumesh.proto.v1.CheckInvariantsRequest;
import org.mmumesh.proto.v1.CheckInvariantsResponse;
import org.mmumesh.proto.v1.ClearRcRequest;
import org.mmumesh.proto.v1.ClearRcResponse;
import org.mmumesh.proto.v1.Counter;
import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.CreateVmRequest;
import org.mmumesh.proto.v1.CreateVmResponse;
import org.mmumesh.proto.v1.DeleteHostRequest;
import org.mmumesh.proto.v1.DeleteVmRequest;
import org.mmumesh.proto.v1.FaultKind;
import org.mmumesh.proto.v1.Fingerprints;
import org.mmumesh.proto.v1.GetHostStatsRequest;
import org.mmumesh.proto.v1.GetKsmCountersRequest;
import org.mmumesh.proto.v1.GetMembersRequest;
import org.mmumesh.proto.v1.GetMembersResponse;
import org.mmumesh.proto.v1.GetVmRequest;
import org.mmumesh.proto.v1.GetVmResponse;
import org.mmumesh.proto.v1.GetVmStatsRequest;
import org.mmumesh.proto.v1.GetVmStatsResponse;
import org.mmumesh.proto.v1.HostMmuKind;
import org.mmumesh.proto.v1.InsertHpteRequest;
import org.mmumesh.proto.v1.KsmRun;
import org.mmumesh.proto.v1.ListHostsRequest;
import org.mmumesh.proto.v1.ListHostsResponse;
import org.mmumesh.proto.v1.LoadMemoryRequest;
import org.mmumesh.proto.v1.LocateEntityRequest;
import org.mmumesh.proto.v1.LocateEntityResponse;
import org.mmumesh.proto.v1.Memslot;
import org.mmumesh.proto.v1.MmuKind;
import org.mmumesh.proto.v1.MmuOptions;
import org.mmumesh.proto.v1.MsrBits;
import org.mmumesh.proto.v1.Policy;
import org.mmumesh.proto.v1.ReadMemoryRequest;
import org.mmumesh.proto.v1.ReadRcRequest;
import org.mmumesh.proto.v1.ReadRcResponse;
import org.mmumesh.proto.v1.RemoveHpteRequest;
import org.mmumesh.proto.v1.RemoveMemslotRequest;
import org.mmumesh.proto.v1.RunKsmBatchRequest;
import org.mmumesh.proto.v1.RunKsmPassesRequest;
import org.mmumesh.proto.v1.RunKsmPassesResponse;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.RunWorkloadResponse;
import org.mmumesh.proto.v1.SegmentRegister;
import org.mmumesh.proto.v1.SetKsmControlRequest;
import org.mmumesh.proto.v1.SetKsmControlResponse;
import org.mmumesh.proto.v1.SetVcpuStateRequest;
import org.mmumesh.proto.v1.VmRef;
import org.mmumesh.proto.v1.WorkloadAccess;

/**
 * Every implemented RPC through a real in-process channel against a real single-node mesh: the
 * happy paths and the documented errors that need a sequence of calls (delete then NOT_FOUND, ids
 * not reused, a second stream on a vCPU), a small workload under two policies, and KSM merging
 * identical guests.
 */
class SimulationEndToEndTest {
  private static final long WINDOW = 0x1000_0000L;
  static Mesh mesh;

  @BeforeAll
  static void start() {
    mesh = new Mesh();
  }

  @AfterAll
  static void stop() {
    mesh.close();
  }

  static CreateHostRequest host(int id, boolean host32) {
    return CreateHostRequest.newBuilder()
        .setHostId(id)
        .setHostMmu(host32 ? HostMmuKind.HOST_MMU_KIND_32 : HostMmuKind.HOST_MMU_KIND_64)
        .setMaxFrames(8192)
        .build();
  }

  static CreateVmRequest vm(int id, int host, boolean is64, Policy p, boolean mergeable) {
    return CreateVmRequest.newBuilder()
        .setVmId(id)
        .setHostId(host)
        .setMmuKind(is64 ? MmuKind.MMU_KIND_BOOK3S_64 : MmuKind.MMU_KIND_BOOK3S_32)
        .setMemorySizeBytes(1 << 20)
        .setVcpuCount(1)
        .setOptions(MmuOptions.newBuilder().setPolicy(p).setUsePolicyDefaults(true))
        .setKsmMergeable(mergeable)
        .build();
  }

  static VmRef ref(int vm) {
    return VmRef.newBuilder().setVmId(vm).build();
  }

  static Map<String, Long> counters(List<Counter> cs) {
    Map<String, Long> m = new TreeMap<>();
    cs.forEach(c -> m.put(c.getName(), c.getValue()));
    return m;
  }

  /** Loads then stores over {@code pages} window pages, then loads them again, in batches. */
  static List<RunWorkloadRequest> workload(int vm, int pages) {
    List<RunWorkloadRequest> out = new ArrayList<>();
    AccessKind[] phases = {AccessKind.ACCESS_KIND_LOAD, AccessKind.ACCESS_KIND_STORE};
    long id = 10;
    for (AccessKind k : phases) {
      for (int round = 0; round < 2; round++) {
        RunWorkloadRequest.Builder b = RunWorkloadRequest.newBuilder().setBatchId(id++);
        if (out.isEmpty()) {
          b.setVcpu(MalformedRequests.vcpu(vm, 0));
        }
        for (int p = 0; p < pages; p++) {
          b.addAccesses(
              WorkloadAccess.newBuilder()
                  .setKind(k)
                  .setEffectiveAddr(WINDOW + p * 4096L + 8 * round)
                  .setStoreValue(p + 1));
        }
        out.add(b.build());
      }
    }
    return out;
  }

  @Test
  void hostLifecycle_createListStatsDelete_andIdsAreNotReused() {
    assertThat(mesh.hosts().createHost(host(10, false)).getHostId()).isEqualTo(10);
    assertThat(mesh.hosts().listHosts(ListHostsRequest.getDefaultInstance()).getHostsList())
        .anySatisfy(
            h -> {
              assertThat(h.getHostId()).isEqualTo(10);
              assertThat(h.getMaxFrames()).isEqualTo(8192);
              assertThat(h.getVmsList()).isEmpty();
            });
    assertThat(
            counters(
                mesh.hosts()
                    .getHostStats(GetHostStatsRequest.newBuilder().setHostId(10).build())
                    .getCountersList()))
        .containsKeys("frames_in_use", "cow_breaks", "leases_held");
    mesh.hosts().deleteHost(DeleteHostRequest.newBuilder().setHostId(10).build());
    assertThat(
            Mesh.statusOf(
                    () ->
                        mesh.hosts()
                            .deleteHost(DeleteHostRequest.newBuilder().setHostId(10).build()))
                .getCode())
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(Mesh.statusOf(() -> mesh.hosts().createHost(host(10, false))).getCode())
        .isEqualTo(Status.Code.ALREADY_EXISTS);
  }

  @Test
  void vmLifecycle_memslotsMemoryStateHptesAndDelete() {
    mesh.hosts().createHost(host(20, true));
    CreateVmResponse created = mesh.vms().createVm(vm(20, 20, false, Policy.POLICY_FIXED, false));
    assertThat(created.getHtabSizeBytes()).isPositive();
    GetVmResponse got = mesh.vms().getVm(GetVmRequest.newBuilder().setVm(ref(20)).build());
    assertThat(got.getMmuKind()).isEqualTo(MmuKind.MMU_KIND_BOOK3S_32);
    assertThat(got.getMemorySizeBytes()).isEqualTo(1 << 20);
    assertThat(got.getHtabGuestRealAddr()).isEqualTo(created.getHtabGuestRealAddr());
    assertThat(got.getMemslotsList()).hasSize(1);
    assertThat(got.getMemslots(0).getPages()).isEqualTo(256);

    // memory: load fingerprints, read them back
    mesh.vms()
        .loadMemory(
            LoadMemoryRequest.newBuilder()
                .setVm(ref(20))
                .setGuestFrameStart(3)
                .setFingerprints(Fingerprints.newBuilder().addValues(77).addValues(78))
                .build());
    assertThat(
            mesh.vms()
                .readMemory(
                    ReadMemoryRequest.newBuilder()
                        .setVm(ref(20))
                        .setGuestFrameStart(3)
                        .setPages(2)
                        .build())
                .getFingerprintsList())
        .containsExactly(77L, 78L);

    // memslots: add one above memory, remove it
    long g1 =
        mesh.vms()
            .addMemslot(
                AddMemslotRequest.newBuilder()
                    .setVm(ref(20))
                    .setMemslot(
                        Memslot.newBuilder()
                            .setSlotId(5)
                            .setGuestFrameStart(1024)
                            .setPages(16)
                            .setHostPageStart(4096))
                    .build())
            .getGeneration();
    assertThat(mesh.vms().getVm(GetVmRequest.newBuilder().setVm(ref(20)).build()).getMemslotsList())
        .hasSize(2);
    long g2 =
        mesh.vms()
            .removeMemslot(RemoveMemslotRequest.newBuilder().setVm(ref(20)).setSlotId(5).build())
            .getGeneration();
    assertThat(g2).isGreaterThan(g1);
    assertThat(mesh.vms().getVm(GetVmRequest.newBuilder().setVm(ref(20)).build()).getMemslotsList())
        .hasSize(1);

    // vCPU state: a segment register and the MSR on a 32-bit guest
    mesh.vms()
        .setVcpuState(
            SetVcpuStateRequest.newBuilder()
                .setVcpu(MalformedRequests.vcpu(20, 0))
                .setMsr(MsrBits.newBuilder().setIr(true).setDr(true))
                .addSegmentRegisters(SegmentRegister.newBuilder().setIndex(15).setValue(0x123))
                .build());

    // guest HPTE: insert, R/C read and clear, remove, remove again
    long ea = WINDOW + 7 * 4096L;
    long addr =
        mesh.vms()
            .insertHpte(
                InsertHpteRequest.newBuilder()
                    .setVcpu(MalformedRequests.vcpu(20, 0))
                    .setEffectiveAddr(ea)
                    .setGuestFrame(7)
                    .setPp(2)
                    .build())
            .getHpteGuestRealAddr();
    assertThat(addr)
        .isBetween(
            created.getHtabGuestRealAddr(),
            created.getHtabGuestRealAddr() + created.getHtabSizeBytes() - 1);
    ReadRcResponse rc =
        mesh.vms()
            .readRc(
                ReadRcRequest.newBuilder()
                    .setVcpu(MalformedRequests.vcpu(20, 0))
                    .setEffectiveAddr(ea)
                    .build());
    assertThat(rc.getReferenced()).isFalse();
    assertThat(rc.getChanged()).isFalse();
    ClearRcResponse cleared =
        mesh.vms()
            .clearRc(
                ClearRcRequest.newBuilder()
                    .setVcpu(MalformedRequests.vcpu(20, 0))
                    .setEffectiveAddr(ea)
                    .setClearReferenced(true)
                    .setClearChanged(true)
                    .build());
    assertThat(cleared.getChanged()).isFalse();
    RemoveHpteRequest rm =
        RemoveHpteRequest.newBuilder()
            .setVcpu(MalformedRequests.vcpu(20, 0))
            .setEffectiveAddr(ea)
            .build();
    mesh.vms().removeHpte(rm);
    assertThat(Mesh.statusOf(() -> mesh.vms().removeHpte(rm)).getCode())
        .isEqualTo(Status.Code.NOT_FOUND);

    // stats, then delete: NOT_FOUND afterwards, the id is not reused, the host can go
    GetVmStatsResponse stats =
        mesh.vms().getVmStats(GetVmStatsRequest.newBuilder().setVm(ref(20)).build());
    assertThat(stats.getPolicy()).isEqualTo(Policy.POLICY_FIXED);
    assertThat(counters(stats.getCountersList())).containsKeys("accesses", "nohpte_exits");
    mesh.vms().deleteVm(DeleteVmRequest.newBuilder().setVm(ref(20)).build());
    assertThat(
            Mesh.statusOf(() -> mesh.vms().getVm(GetVmRequest.newBuilder().setVm(ref(20)).build()))
                .getCode())
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(
            Mesh.statusOf(() -> mesh.vms().createVm(vm(20, 20, false, Policy.POLICY_FIXED, false)))
                .getCode())
        .isEqualTo(Status.Code.ALREADY_EXISTS);
    mesh.hosts().deleteHost(DeleteHostRequest.newBuilder().setHostId(20).build());
  }

  @Test
  void runWorkload_underTwoPolicies_countsEveryAccess_andStoresReachMemory() throws Exception {
    mesh.hosts().createHost(host(30, false));
    Map<Policy, Map<String, Long>> byPolicy = new TreeMap<>();
    int vmId = 30;
    for (Policy p : List.of(Policy.POLICY_LEGACY, Policy.POLICY_STRICT)) {
      mesh.vms().createVm(vm(vmId, 30, true, p, false));
      List<Object> answers = mesh.runWorkload(workload(vmId, 32));
      assertThat(answers).hasSize(5);
      assertThat(answers.get(4)).isEqualTo("completed");
      long id = 10;
      for (int i = 0; i < 4; i++) {
        RunWorkloadResponse r = (RunWorkloadResponse) answers.get(i);
        assertThat(r.getBatchId()).isEqualTo(id++);
        assertThat(r.getCompleted()).as(r.getFailuresList().toString()).isEqualTo(32);
        assertThat(r.getFailed()).isZero();
      }
      Map<String, Long> c = counters(((RunWorkloadResponse) answers.get(3)).getCountersList());
      assertThat(c.get("accesses")).isEqualTo(128);
      assertThat(c.get("nohpte_exits")).isPositive();
      byPolicy.put(p, c);
      // the stores are in guest memory: every written page differs from a never-written one
      List<Long> fps =
          mesh.vms()
              .readMemory(ReadMemoryRequest.newBuilder().setVm(ref(vmId)).setPages(33).build())
              .getFingerprintsList();
      assertThat(fps.subList(0, 32)).doesNotContain(fps.get(32));
      GetVmStatsResponse s =
          mesh.vms().getVmStats(GetVmStatsRequest.newBuilder().setVm(ref(vmId)).build());
      assertThat(s.getPolicy()).isEqualTo(p);
      assertThat(counters(s.getCountersList()).get("accesses")).isEqualTo(128);
      assertThat(s.getSimulatedNanos()).isPositive();
      vmId++;
    }
    // strict never misses a C bit
    assertThat(byPolicy.get(Policy.POLICY_STRICT).get("missed_c")).isZero();
  }

  @Test
  void runWorkload_omitCounters_leavesThemOutOfThatBatchsResultOnly() throws Exception {
    mesh.hosts().createHost(host(35, false));
    mesh.vms().createVm(vm(35, 35, true, Policy.POLICY_STRICT, false));
    List<RunWorkloadRequest> batches = new ArrayList<>(workload(35, 8).subList(0, 2));
    batches.set(0, batches.get(0).toBuilder().setOmitCounters(true).build());
    List<Object> answers = mesh.runWorkload(batches);
    RunWorkloadResponse first = (RunWorkloadResponse) answers.get(0);
    RunWorkloadResponse second = (RunWorkloadResponse) answers.get(1);
    assertThat(first.getCompleted()).isEqualTo(8);
    assertThat(first.getCountersList()).isEmpty();
    assertThat(second.getCompleted()).isEqualTo(8);
    assertThat(counters(second.getCountersList())).containsEntry("accesses", 16L);
  }

  @Test
  void secondStreamOnAVcpu_isFailedPrecondition_andDeleteVmWaitsForTheStream() throws Exception {
    mesh.hosts().createHost(host(40, false));
    mesh.vms().createVm(vm(40, 40, true, Policy.POLICY_STRICT, false));
    Mesh.Answers first = new Mesh.Answers();
    StreamObserver<RunWorkloadRequest> a =
        AccessServiceGrpc.newStub(mesh.channel).runWorkload(first);
    a.onNext(workload(40, 4).get(0));
    assertThat(first.next()).isInstanceOf(RunWorkloadResponse.class);

    Mesh.Answers second = new Mesh.Answers();
    StreamObserver<RunWorkloadRequest> b =
        AccessServiceGrpc.newStub(mesh.channel).runWorkload(second);
    b.onNext(workload(40, 4).get(0));
    Status s = (Status) second.next();
    assertThat(s.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(
            Mesh.statusOf(
                    () -> mesh.vms().deleteVm(DeleteVmRequest.newBuilder().setVm(ref(40)).build()))
                .getCode())
        .isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(
            Mesh.statusOf(
                    () ->
                        mesh.access()
                            .access(
                                AccessRequest.newBuilder()
                                    .setVcpu(MalformedRequests.vcpu(40, 0))
                                    .setKind(AccessKind.ACCESS_KIND_LOAD)
                                    .setEffectiveAddr(WINDOW)
                                    .build()))
                .getCode())
        .isEqualTo(Status.Code.FAILED_PRECONDITION);

    a.onCompleted();
    assertThat(first.next()).isEqualTo("completed");
    mesh.vms().deleteVm(DeleteVmRequest.newBuilder().setVm(ref(40)).build());
  }

  @Test
  void access_tracesTheFaultPath_thenHitsWithoutAnExit() {
    mesh.hosts().createHost(host(50, false));
    mesh.vms().createVm(vm(50, 50, true, Policy.POLICY_STRICT, false));
    AccessRequest store =
        AccessRequest.newBuilder()
            .setVcpu(MalformedRequests.vcpu(50, 0))
            .setKind(AccessKind.ACCESS_KIND_STORE)
            .setEffectiveAddr(WINDOW + 5 * 4096L)
            .setStoreValue(42)
            .build();
    AccessTrace first = mesh.access().access(store).getTrace();
    assertThat(first.getCompleted()).as(first.getFailure()).isTrue();
    assertThat(first.getTlbHit()).isFalse();
    assertThat(first.getFaultsList()).isNotEmpty();
    assertThat(first.getFaults(0).getKind()).isEqualTo(FaultKind.FAULT_KIND_NOHPTE);
    assertThat(first.getFaultsList()).anySatisfy(f -> assertThat(f.hasMap()).isTrue());
    assertThat(first.hasHostPfn()).isTrue();
    assertThat(first.hasGuestRealAddr()).isTrue();

    AccessTrace again = mesh.access().access(store).getTrace();
    assertThat(again.getCompleted()).isTrue();
    assertThat(again.getTlbHit() || again.getHostHpteHit()).isTrue();
    assertThat(again.getFaultsList()).isEmpty();
    assertThat(again.getHostPfn()).isEqualTo(first.getHostPfn());
    assertThat(again.hasGuestRealAddr()).as("a hit does not tell the vCPU the raddr").isFalse();
  }

  @Test
  void ksm_mergesIdenticalGuests_afterRunKsmPasses() {
    mesh.hosts().createHost(host(60, false));
    Fingerprints.Builder f = Fingerprints.newBuilder();
    for (int i = 0; i < 32; i++) {
      f.addValues(0xC0FFEE00L + i);
    }
    for (int vm = 60; vm <= 61; vm++) {
      mesh.vms().createVm(vm(vm, 60, true, Policy.POLICY_FIXED, true));
      mesh.vms()
          .loadMemory(LoadMemoryRequest.newBuilder().setVm(ref(vm)).setFingerprints(f).build());
    }
    SetKsmControlResponse ctl =
        mesh.ksm()
            .setKsmControl(
                SetKsmControlRequest.newBuilder()
                    .setHostId(60)
                    .setRun(KsmRun.KSM_RUN_MERGE)
                    .setPagesToScan(1)
                    .build());
    assertThat(ctl.getRun()).isEqualTo(KsmRun.KSM_RUN_MERGE);
    assertThat(ctl.getPagesToScan()).isEqualTo(1);
    RunKsmPassesResponse passes =
        mesh.ksm()
            .runKsmPasses(RunKsmPassesRequest.newBuilder().setHostId(60).setPasses(3).build());
    Map<String, Long> c = counters(passes.getCountersList());
    assertThat(c.get("pages_sharing")).isGreaterThanOrEqualTo(32);
    assertThat(c.get("pages_shared")).isGreaterThanOrEqualTo(32);
    assertThat(
            counters(
                    mesh.ksm()
                        .getKsmCounters(GetKsmCountersRequest.newBuilder().setHostId(60).build())
                        .getCountersList())
                .get("pages_sharing"))
        .isEqualTo(c.get("pages_sharing"));
    // merging changed no guest's content
    assertThat(
            mesh.vms()
                .readMemory(ReadMemoryRequest.newBuilder().setVm(ref(61)).setPages(32).build())
                .getFingerprintsList())
        .isEqualTo(f.getValuesList());
  }

  @Test
  void ksm_steppedBatchByBatch_withTheTimerIdle_andTheHostClockSumsItsVms() throws Exception {
    mesh.hosts().createHost(host(62, false));
    Fingerprints.Builder f = Fingerprints.newBuilder();
    for (int i = 0; i < 32; i++) {
      f.addValues(0xBEEF00L + i);
    }
    for (int vm = 62; vm <= 63; vm++) {
      mesh.vms().createVm(vm(vm, 62, true, Policy.POLICY_STRICT, true));
      mesh.vms()
          .loadMemory(LoadMemoryRequest.newBuilder().setVm(ref(vm)).setFingerprints(f).build());
    }
    SetKsmControlResponse ctl =
        mesh.ksm()
            .setKsmControl(
                SetKsmControlRequest.newBuilder()
                    .setHostId(62)
                    .setRun(KsmRun.KSM_RUN_MERGE)
                    .setPagesToScan(0)
                    .build());
    assertThat(ctl.getPagesToScan()).isZero();
    GetKsmCountersRequest get = GetKsmCountersRequest.newBuilder().setHostId(62).build();
    assertThat(counters(mesh.ksm().getKsmCounters(get).getCountersList()).get("pages_visited"))
        .as("ksmd's own wake-up with pages_to_scan 0 scans nothing")
        .isZero();
    for (int b = 1; b <= 3; b++) {
      Map<String, Long> c =
          counters(
              mesh.ksm()
                  .runKsmBatch(RunKsmBatchRequest.newBuilder().setHostId(62).setPages(16).build())
                  .getCountersList());
      assertThat(c.get("pages_visited")).as("a batch visits its 16 pages").isEqualTo(16L * b);
    }
    GetHostStatsRequest hs = GetHostStatsRequest.newBuilder().setHostId(62).build();
    assertThat(counters(mesh.hosts().getHostStats(hs).getCountersList()).get("simulated_nanos"))
        .isZero();
    mesh.runWorkload(workload(62, 8));
    long vmNanos =
        mesh.vms()
            .getVmStats(GetVmStatsRequest.newBuilder().setVm(ref(62)).build())
            .getSimulatedNanos();
    Map<String, Long> host = counters(mesh.hosts().getHostStats(hs).getCountersList());
    assertThat(vmNanos).isPositive();
    assertThat(host.get("simulated_nanos"))
        .as("the host's clock: its VMs' plus its COW copies (1000 ns each by default)")
        .isEqualTo(vmNanos + 1000 * host.get("cow_breaks"));
    assertThat(counters(mesh.ksm().getKsmCounters(get).getCountersList()).get("pages_visited"))
        .as("no scanning between the steps")
        .isEqualTo(48L);
  }

  @Test
  void checkInvariants_afterAWorkload_findsNoneOnEveryHostAndVm() throws Exception {
    mesh.hosts().createHost(host(64, false));
    mesh.vms().createVm(vm(64, 64, true, Policy.POLICY_STRICT, true));
    mesh.runWorkload(workload(64, 16));
    CheckInvariantsResponse r =
        mesh.clusterStub().checkInvariants(CheckInvariantsRequest.getDefaultInstance());
    assertThat(r.getViolationsList()).isEmpty();
    ListHostsResponse all = mesh.hosts().listHosts(ListHostsRequest.getDefaultInstance());
    assertThat(r.getHostsChecked()).isEqualTo(all.getHostsCount());
    assertThat(r.getVmsChecked())
        .isEqualTo(all.getHostsList().stream().mapToInt(h -> h.getVmsCount()).sum())
        .isPositive();
  }

  @Test
  void cluster_membersAndWhereEntitiesLive() {
    GetMembersResponse m = mesh.clusterStub().getMembers(GetMembersRequest.getDefaultInstance());
    assertThat(m.getMembersList()).hasSize(1);
    assertThat(m.getMembers(0).getStatus()).isEqualTo("Up");
    assertThat(m.getMembers(0).getRolesList()).contains("frames", "mmu", "vcpu");
    assertThat(m.getSelfAddress()).isEqualTo(m.getMembers(0).getAddress());

    mesh.hosts().createHost(host(70, false));
    mesh.vms().createVm(vm(70, 70, true, Policy.POLICY_STRICT, false));
    for (String[] e :
        new String[][] {
          {"PageFrame", "host-70"},
          {"Ksm", "host-70"},
          {"GuestMmu", "vm-70"},
          {"HostMmu", "vm-70"},
          {"Vcpu", "vm-70/vcpu-0"}
        }) {
      LocateEntityResponse l =
          mesh.clusterStub()
              .locateEntity(
                  LocateEntityRequest.newBuilder().setEntityType(e[0]).setEntityId(e[1]).build());
      assertThat(l.getNodeAddress()).as(e[0]).isEqualTo(m.getSelfAddress());
      assertThat(l.getShardId()).isNotEmpty();
    }
  }
}
