package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.proto.v1.AccessKind;
import org.mmumesh.proto.v1.AccessRequest;
import org.mmumesh.proto.v1.AccessServiceGrpc;
import org.mmumesh.proto.v1.AddMemslotRequest;
import org.mmumesh.proto.v1.Bat;
import org.mmumesh.proto.v1.CheckInvariantsRequest;
import org.mmumesh.proto.v1.CheckInvariantsResponse;
import org.mmumesh.proto.v1.ClearRcRequest;
import org.mmumesh.proto.v1.ClusterServiceGrpc;
import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.CreateVmRequest;
import org.mmumesh.proto.v1.DeleteHostRequest;
import org.mmumesh.proto.v1.DeleteVmRequest;
import org.mmumesh.proto.v1.EchoRequest;
import org.mmumesh.proto.v1.EchoServiceGrpc;
import org.mmumesh.proto.v1.Fingerprints;
import org.mmumesh.proto.v1.GetHostStatsRequest;
import org.mmumesh.proto.v1.GetKsmCountersRequest;
import org.mmumesh.proto.v1.GetMembersRequest;
import org.mmumesh.proto.v1.GetVmRequest;
import org.mmumesh.proto.v1.GetVmStatsRequest;
import org.mmumesh.proto.v1.HostMmuKind;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.InsertHpteRequest;
import org.mmumesh.proto.v1.KsmRun;
import org.mmumesh.proto.v1.KsmServiceGrpc;
import org.mmumesh.proto.v1.ListHostsRequest;
import org.mmumesh.proto.v1.LoadMemoryRequest;
import org.mmumesh.proto.v1.LocateEntityRequest;
import org.mmumesh.proto.v1.Memslot;
import org.mmumesh.proto.v1.MmuKind;
import org.mmumesh.proto.v1.MmuOptions;
import org.mmumesh.proto.v1.MsrBits;
import org.mmumesh.proto.v1.Policy;
import org.mmumesh.proto.v1.Quirk;
import org.mmumesh.proto.v1.ReadMemoryRequest;
import org.mmumesh.proto.v1.ReadRcRequest;
import org.mmumesh.proto.v1.RemoveHpteRequest;
import org.mmumesh.proto.v1.RemoveMemslotRequest;
import org.mmumesh.proto.v1.RunKsmBatchRequest;
import org.mmumesh.proto.v1.RunKsmPassesRequest;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.RunWorkloadResponse;
import org.mmumesh.proto.v1.SegmentRegister;
import org.mmumesh.proto.v1.SetKsmControlRequest;
import org.mmumesh.proto.v1.SetVcpuStateRequest;
import org.mmumesh.proto.v1.SlbEntry;
import org.mmumesh.proto.v1.VcpuRef;
import org.mmumesh.proto.v1.VmServiceGrpc;
import org.mmumesh.proto.v1.WorkloadAccess;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 5's fuzz test: at least 10,000 seeded random requests through a real in-process channel to
 * the gateway over a real single-node mesh, across every served RPC (each unary call of
 * HostService, VmService, KsmService, ClusterService, AccessService.Access and EchoService, and
 * short RunWorkload streams). Each request is, at random, valid on the few hosts and VMs created
 * first (so the state really changes: loads, stores, HPTE inserts and removes, memslot adds and
 * removes, KSM passes, new hosts and VMs), near-valid (one field one past its range, the wrong MMU
 * kind, an unknown id) or garbage (random values in every scalar field, unknown enum numbers).
 *
 * <p>Afterwards: no call ended INTERNAL or UNKNOWN (nor any code the API does not document, nor a
 * timeout: every call has a 60 s deadline, so a hang fails here), health says SERVING, a fresh VM's
 * workload runs to completion with every access counted, every RunWorkload answer counted each
 * access once ({@code completed + failed == accesses}), and the architecture's invariants hold as
 * the actors check them, asked through the API ({@code ClusterService.CheckInvariants}, which must
 * have checked every live host and VM): every host's page frames, KSM counter recount and
 * writable-shared-frame check, every live VM's host MMU.
 *
 * <p>The seed is {@value #DEFAULT_SEED} unless the system property {@code mmumesh.fuzz.seed} gives
 * another; the request count is {@value #DEFAULT_REQUESTS} unless {@code mmumesh.fuzz.requests}.
 */
class GatewayFuzzTest {
  private static final Logger log = LoggerFactory.getLogger(GatewayFuzzTest.class);
  private static final long DEFAULT_SEED = 0x5EED_F022L;
  private static final int DEFAULT_REQUESTS = 10_000;
  private static final long WINDOW = 0x1000_0000L;

  /** Bounds each call, so that a hang fails the test; generous, as loaded CI machines are slow. */
  private static final int DEADLINE_SECONDS = 60;

  /** Every status the API documents (proto comments, StatusMapper). */
  private static final Set<Status.Code> DOCUMENTED =
      EnumSet.of(
          Status.Code.OK,
          Status.Code.INVALID_ARGUMENT,
          Status.Code.NOT_FOUND,
          Status.Code.ALREADY_EXISTS,
          Status.Code.FAILED_PRECONDITION,
          Status.Code.RESOURCE_EXHAUSTED);

  /** {@code -Dmmumesh.fuzz.trace=true} logs every request and its status. */
  private static final boolean TRACE = Boolean.getBoolean("mmumesh.fuzz.trace");

  private static Mesh mesh;

  /** Hosts created (core ones first), never deleted by the valid mix while they carry VMs. */
  private final List<Integer> hosts = new ArrayList<>(List.of(1, 2));

  /** Live VMs: id to (host, 64-bit, vCPUs). */
  private final Map<Integer, int[]> vms = new TreeMap<>();

  /** VMs the fuzz must not delete (the workloads' subjects). */
  private static final Set<Integer> CORE_VMS = Set.of(1, 2, 3);

  private Random r;
  private int nextHostId = 10;
  private int nextVmId = 100;
  private final Map<String, Map<Status.Code, Integer>> tally = new TreeMap<>();
  private final List<String> bad = new ArrayList<>();
  private long workloadAccesses;

  @BeforeAll
  static void start() {
    mesh = new Mesh();
  }

  @AfterAll
  static void stop() {
    mesh.close();
  }

  // ---- stubs with the fuzz deadline ------------------------------------------------------------

  private static HostServiceGrpc.HostServiceBlockingStub hostStub() {
    return HostServiceGrpc.newBlockingStub(mesh.channel)
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  private static VmServiceGrpc.VmServiceBlockingStub vmStub() {
    return VmServiceGrpc.newBlockingStub(mesh.channel)
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  private static KsmServiceGrpc.KsmServiceBlockingStub ksmStub() {
    return KsmServiceGrpc.newBlockingStub(mesh.channel)
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  private static ClusterServiceGrpc.ClusterServiceBlockingStub clusterStub() {
    return ClusterServiceGrpc.newBlockingStub(mesh.channel)
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  private static AccessServiceGrpc.AccessServiceBlockingStub accessStub() {
    return AccessServiceGrpc.newBlockingStub(mesh.channel)
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  private static EchoServiceGrpc.EchoServiceBlockingStub echoStub() {
    return EchoServiceGrpc.newBlockingStub(mesh.channel)
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  // ---- random values ---------------------------------------------------------------------------

  private static final int VALID = 0;
  private static final int NEAR = 1;
  private static final int GARBAGE = 2;

  /** 50 % valid, 20 % near-valid, 30 % garbage. */
  private int category() {
    int x = r.nextInt(10);
    return x < 5 ? VALID : x < 7 ? NEAR : GARBAGE;
  }

  /** A garbage 32-bit value: boundaries, small numbers, or anything. */
  private int anyInt() {
    return switch (r.nextInt(7)) {
      case 0 -> 0;
      case 1 -> -1;
      case 2 -> Integer.MAX_VALUE;
      case 3 -> Integer.MIN_VALUE;
      case 4, 5 -> r.nextInt(32);
      default -> r.nextInt();
    };
  }

  /** A garbage 64-bit value: boundaries, small numbers, or anything. */
  private long anyLong() {
    return switch (r.nextInt(8)) {
      case 0 -> 0;
      case 1 -> -1L;
      case 2 -> Long.MAX_VALUE;
      case 3 -> Long.MIN_VALUE;
      case 4 -> r.nextInt(32);
      case 5 -> 1L << r.nextInt(64);
      case 6 -> r.nextInt() & 0xFFFF_FFFFL;
      default -> r.nextLong();
    };
  }

  /** A garbage enum number: a known one, an unknown positive one, or a negative one. */
  private int anyEnum() {
    return switch (r.nextInt(4)) {
      case 0 -> r.nextInt(10);
      case 1 -> -1 - r.nextInt(5);
      case 2 -> 100 + r.nextInt(1000);
      default -> r.nextInt();
    };
  }

  private <T> T pick(List<T> xs) {
    return xs.get(r.nextInt(xs.size()));
  }

  private int liveVm() {
    return pick(new ArrayList<>(vms.keySet()));
  }

  private int[] vmOf(int vm) {
    return vms.get(vm);
  }

  /** A VM id by category: a live one, an unknown one, or anything. */
  private int vmId(int c) {
    return switch (c) {
      case VALID -> liveVm();
      case NEAR -> r.nextBoolean() ? Limits.MAX_VM_ID + 1 : 60_000 + r.nextInt(5000);
      default -> anyInt();
    };
  }

  private int hostId(int c) {
    return switch (c) {
      case VALID -> pick(hosts);
      case NEAR -> r.nextBoolean() ? Limits.MAX_HOST_ID + 1 : 900 + r.nextInt(100);
      default -> anyInt();
    };
  }

  private VcpuRef vcpu(int c) {
    if (c == VALID) {
      int vm = liveVm();
      return MalformedRequests.vcpu(vm, r.nextInt(vmOf(vm)[2]));
    }
    if (c == NEAR) {
      int vm = liveVm();
      return r.nextBoolean()
          ? MalformedRequests.vcpu(vm, vmOf(vm)[2]) // one past the last vCPU
          : MalformedRequests.vcpu(vmId(NEAR), 0);
    }
    return VcpuRef.newBuilder().setVmId(anyInt()).setVcpuIndex(anyInt()).build();
  }

  /** An effective address: in the mapped window, one past 32 bits, or anything. */
  private long ea(int c) {
    return switch (c) {
      case VALID -> WINDOW + r.nextInt(256) * 4096L + 8L * r.nextInt(512);
      case NEAR -> r.nextBoolean() ? 1L << 32 : WINDOW + (1L << 20);
      default -> anyLong();
    };
  }

  private Policy policy() {
    return pick(List.of(Policy.POLICY_LEGACY, Policy.POLICY_FIXED, Policy.POLICY_STRICT));
  }

  private MmuOptions.Builder options(int c) {
    MmuOptions.Builder o = MmuOptions.newBuilder();
    if (c == GARBAGE) {
      o.setPolicyValue(anyEnum()).setUsePolicyDefaults(r.nextBoolean());
      for (int i = r.nextInt(4); i > 0; i--) {
        o.addQuirksValue(anyEnum());
      }
      return o;
    }
    o.setPolicy(policy()).setUsePolicyDefaults(r.nextBoolean());
    if (r.nextInt(3) == 0) {
      o.addQuirks(Quirk.forNumber(pick(List.of(1, 2, 3, 4, 5, 7, 8))));
    }
    return o;
  }

  // ---- request generators, one per RPC ---------------------------------------------------------

  private Message createHost(int c) {
    CreateHostRequest.Builder b =
        CreateHostRequest.newBuilder()
            .setHostId(nextHostId)
            .setHostMmu(
                r.nextBoolean() ? HostMmuKind.HOST_MMU_KIND_64 : HostMmuKind.HOST_MMU_KIND_32)
            .setMaxFrames(1024 + r.nextInt(4096));
    switch (c) {
      case VALID -> {
        if (r.nextInt(4) == 0) {
          b.setHostId(pick(hosts)); // taken: ALREADY_EXISTS
        } else {
          nextHostId++;
        }
      }
      case NEAR -> {
        switch (r.nextInt(4)) {
          case 0 -> b.setHostId(Limits.MAX_HOST_ID + 1);
          case 1 -> b.setMaxFrames(Limits.MAX_FRAMES + 1);
          case 2 -> b.setMaxFrames(0);
          default -> b.setHostMmuValue(3);
        }
      }
      default -> b.setHostId(anyInt()).setHostMmuValue(anyEnum()).setMaxFrames(anyLong());
    }
    return b.build();
  }

  private Message deleteHost(int c) {
    int id = hostId(c);
    if (c == VALID && r.nextInt(3) != 0 && hosts.size() > 2) {
      id = hosts.get(2 + r.nextInt(hosts.size() - 2)); // a fuzz host, with or without VMs
    }
    return DeleteHostRequest.newBuilder().setHostId(id).build();
  }

  private Message createVm(int c) {
    int host = pick(hosts);
    boolean is64 = r.nextBoolean();
    CreateVmRequest.Builder b =
        CreateVmRequest.newBuilder()
            .setVmId(nextVmId)
            .setHostId(host)
            .setMmuKind(is64 ? MmuKind.MMU_KIND_BOOK3S_64 : MmuKind.MMU_KIND_BOOK3S_32)
            .setMemorySizeBytes((1 + r.nextInt(16)) * 65536L)
            .setVcpuCount(1 + r.nextInt(2))
            .setOptions(options(VALID))
            .setKsmMergeable(r.nextBoolean());
    switch (c) {
      case VALID -> {
        if (r.nextInt(5) == 0) {
          b.setVmId(liveVm()); // taken: ALREADY_EXISTS
        } else {
          nextVmId++;
        }
      }
      case NEAR -> {
        switch (r.nextInt(8)) {
          case 0 -> b.setVmId(Limits.MAX_VM_ID + 1);
          case 1 -> b.setHostId(hostId(NEAR));
          case 2 -> b.setMmuKindValue(3);
          case 3 -> b.setMemorySizeBytes(Limits.MIN_MEMORY_BYTES - 4096);
          case 4 -> b.setVcpuCount(Limits.MAX_VCPUS + 1);
          case 5 -> b.setTlbEntries(Limits.MAX_TLB_ENTRIES * 2);
          case 6 ->
              b.setMmuKind(MmuKind.MMU_KIND_BOOK3S_32)
                  .setMemorySizeBytes(Limits.MAX_MEMORY_BYTES_32 + 4096);
          default -> b.setOptions(MmuOptions.newBuilder().setPolicyValue(4));
        }
      }
      default ->
          b.setVmId(anyInt())
              .setHostId(anyInt())
              .setMmuKindValue(anyEnum())
              .setMemorySizeBytes(anyLong())
              .setVcpuCount(anyInt())
              .setTlbEntries(anyInt())
              .setOptions(options(GARBAGE));
    }
    CreateVmRequest req = b.build();
    if (c == GARBAGE && req.getVmId() >= 0 && req.getVmId() < 100) {
      req = req.toBuilder().setVmId(Limits.MAX_VM_ID + 1).build();
    }
    return req;
  }

  private Message deleteVm(int c) {
    int id = vmId(c);
    if (c == VALID) {
      List<Integer> extra = new ArrayList<>(vms.keySet());
      extra.removeAll(CORE_VMS);
      id = extra.isEmpty() ? vmId(NEAR) : pick(extra);
    } else if (CORE_VMS.contains(id)) {
      id = vmId(NEAR);
    }
    return DeleteVmRequest.newBuilder().setVm(MalformedRequests.vmRef(id)).build();
  }

  private Message setVcpuState(int c) {
    SetVcpuStateRequest.Builder b = SetVcpuStateRequest.newBuilder().setVcpu(vcpu(c));
    if (c == GARBAGE) {
      if (r.nextBoolean()) {
        b.setMsr(MsrBits.newBuilder().setPr(r.nextBoolean()).setIr(r.nextBoolean()));
      }
      for (int i = r.nextInt(3); i > 0; i--) {
        b.addSegmentRegisters(SegmentRegister.newBuilder().setIndex(anyInt()).setValue(anyInt()));
      }
      for (int i = r.nextInt(3); i > 0; i--) {
        b.addSlbEntries(SlbEntry.newBuilder().setIndex(anyInt()).setRs(anyLong()).setRb(anyLong()));
      }
      for (int i = r.nextInt(3); i > 0; i--) {
        b.addBats(
            Bat.newBuilder()
                .setIndex(anyInt())
                .setInstruction(r.nextBoolean())
                .setUpper(anyInt())
                .setLower(anyInt()));
      }
      return b.build();
    }
    // valid or near: the MSR with translation on, and a register of the VM's kind (or the wrong
    // kind, or one index past the range)
    b.setMsr(MsrBits.newBuilder().setIr(true).setDr(true));
    int[] v = vms.get(b.getVcpu().getVmId());
    boolean is64 = v != null && v[1] == 1;
    boolean wrong = c == NEAR && r.nextBoolean();
    boolean past = c == NEAR && !wrong;
    if (is64 != wrong) {
      // re-state the window's segment: SLB entry index only, identity values are the VM's own
      b.addSlbEntries(
          SlbEntry.newBuilder()
              .setIndex(past ? Limits.MAX_SLB_INDEX + 1 : 63)
              .setRs(0)
              .setRb(past ? 0 : 63));
    } else {
      b.addSegmentRegisters(
          SegmentRegister.newBuilder()
              .setIndex(past ? Limits.MAX_SR_INDEX + 1 : 15)
              .setValue(0x100 + r.nextInt(16)));
    }
    return b.build();
  }

  private Memslot.Builder memslot(int c) {
    Memslot.Builder m =
        Memslot.newBuilder()
            .setSlotId(1 + r.nextInt(8))
            .setGuestFrameStart(1024 + r.nextInt(8) * 64L)
            .setPages(1 + r.nextInt(64))
            .setHostPageStart(r.nextInt(1024))
            .setReadOnly(r.nextInt(4) == 0);
    switch (c) {
      case VALID -> {}
      case NEAR -> {
        switch (r.nextInt(4)) {
          case 0 -> m.setSlotId(Limits.MAX_SLOT_ID + 1);
          case 1 -> m.setPages(0);
          case 2 -> m.setGuestFrameStart(0); // overlaps slot 0
          default -> m.setHostPageStart(Limits.MAX_FRAMES);
        }
      }
      default ->
          m.setSlotId(anyInt())
              .setGuestFrameStart(anyLong())
              .setPages(anyLong())
              .setHostPageStart(anyLong())
              .setGeneration(anyLong());
    }
    return m;
  }

  private Message addMemslot(int c) {
    return AddMemslotRequest.newBuilder()
        .setVm(MalformedRequests.vmRef(vmId(c == NEAR && r.nextBoolean() ? NEAR : c)))
        .setMemslot(memslot(c))
        .build();
  }

  private Message removeMemslot(int c) {
    int slot =
        switch (c) {
          case VALID -> r.nextInt(20) == 0 ? 0 : 1 + r.nextInt(8);
          case NEAR -> Limits.MAX_SLOT_ID + 1;
          default -> anyInt();
        };
    return RemoveMemslotRequest.newBuilder()
        .setVm(MalformedRequests.vmRef(vmId(c)))
        .setSlotId(slot)
        .build();
  }

  private Message loadMemory(int c) {
    LoadMemoryRequest.Builder b =
        LoadMemoryRequest.newBuilder().setVm(MalformedRequests.vmRef(vmId(c)));
    switch (c) {
      case VALID -> {
        Fingerprints.Builder f = Fingerprints.newBuilder();
        for (int i = 1 + r.nextInt(16); i > 0; i--) {
          f.addValues(0xC0FFEE00L + r.nextInt(8)); // few values: KSM finds duplicates
        }
        b.setGuestFrameStart(r.nextInt(16)).setFingerprints(f);
        if (r.nextInt(4) == 0) {
          b.setImage(ByteString.copyFrom(new byte[4096 * (1 + r.nextInt(2))]));
        }
      }
      case NEAR -> {
        switch (r.nextInt(3)) {
          case 0 ->
              b.setGuestFrameStart(1L << 40)
                  .setFingerprints(Fingerprints.newBuilder().addValues(1));
          case 1 -> b.setImage(ByteString.copyFrom(new byte[4097]));
          default -> {} // no content
        }
      }
      default -> {
        b.setGuestFrameStart(anyLong());
        if (r.nextBoolean()) {
          byte[] bytes = new byte[r.nextInt(9000)];
          r.nextBytes(bytes);
          b.setImage(ByteString.copyFrom(bytes));
        } else {
          Fingerprints.Builder f = Fingerprints.newBuilder();
          for (int i = r.nextInt(40); i > 0; i--) {
            f.addValues(anyLong());
          }
          b.setFingerprints(f);
        }
      }
    }
    return b.build();
  }

  private Message readMemory(int c) {
    ReadMemoryRequest.Builder b =
        ReadMemoryRequest.newBuilder().setVm(MalformedRequests.vmRef(vmId(c)));
    switch (c) {
      case VALID -> b.setGuestFrameStart(r.nextInt(16)).setPages(1 + r.nextInt(16));
      case NEAR -> b.setPages(r.nextBoolean() ? Limits.MAX_READ_PAGES + 1 : 0);
      default -> b.setGuestFrameStart(anyLong()).setPages(anyInt() & 0xFFFF);
    }
    return b.build();
  }

  private Message insertHpte(int c) {
    InsertHpteRequest.Builder b =
        InsertHpteRequest.newBuilder()
            .setVcpu(vcpu(c == NEAR && r.nextBoolean() ? NEAR : VALID))
            .setEffectiveAddr(ea(VALID))
            .setGuestFrame(r.nextInt(256))
            .setPp(r.nextInt(4));
    switch (c) {
      case VALID -> {}
      case NEAR -> {
        switch (r.nextInt(3)) {
          case 0 -> b.setPp(4);
          case 1 -> b.setEffectiveAddr(ea(NEAR));
          default -> b.setGuestFrame(1L << 52);
        }
      }
      default ->
          b.setVcpu(vcpu(GARBAGE))
              .setEffectiveAddr(anyLong())
              .setGuestFrame(anyLong())
              .setPp(anyInt());
    }
    return b.build();
  }

  private Message removeHpte(int c) {
    return RemoveHpteRequest.newBuilder().setVcpu(vcpu(c)).setEffectiveAddr(ea(c)).build();
  }

  private Message readRc(int c) {
    return ReadRcRequest.newBuilder().setVcpu(vcpu(c)).setEffectiveAddr(ea(c)).build();
  }

  private Message clearRc(int c) {
    return ClearRcRequest.newBuilder()
        .setVcpu(vcpu(c))
        .setEffectiveAddr(ea(c))
        .setClearReferenced(r.nextBoolean())
        .setClearChanged(r.nextBoolean())
        .build();
  }

  private Message setKsmControl(int c) {
    SetKsmControlRequest.Builder b = SetKsmControlRequest.newBuilder().setHostId(hostId(c));
    switch (c) {
      case VALID -> {
        b.setRun(pick(List.of(KsmRun.KSM_RUN_STOP, KsmRun.KSM_RUN_MERGE, KsmRun.KSM_RUN_UNMERGE)));
        if (r.nextBoolean()) {
          b.setPagesToScan(1 + r.nextInt(200));
        }
        if (r.nextBoolean()) {
          b.setSleepMillisecs(r.nextInt(100));
        }
      }
      case NEAR -> {
        b.setHostId(hostId(VALID));
        switch (r.nextInt(3)) {
          case 0 -> b.setPagesToScan(Limits.UINT_MAX + 1);
          case 1 -> b.setSleepMillisecs(Limits.UINT_MAX + 1);
          default -> b.setRunValue(4);
        }
      }
      default -> {
        b.setRunValue(anyEnum());
        if (r.nextBoolean()) {
          b.setPagesToScan(anyLong());
        }
        if (r.nextBoolean()) {
          b.setSleepMillisecs(anyLong());
        }
      }
    }
    return b.build();
  }

  private Message runKsmPasses(int c) {
    int passes =
        switch (c) {
          case VALID -> 1 + r.nextInt(2);
          case NEAR -> Limits.MAX_KSM_PASSES + 1;
          default -> r.nextBoolean() ? anyInt() : r.nextInt(4);
        };
    return RunKsmPassesRequest.newBuilder().setHostId(hostId(c)).setPasses(passes).build();
  }

  private Message runKsmBatch(int c) {
    long pages =
        switch (c) {
          case VALID -> 1 + r.nextInt(300);
          case NEAR -> r.nextBoolean() ? 0 : Limits.UINT_MAX + 1;
          default -> anyLong();
        };
    return RunKsmBatchRequest.newBuilder().setHostId(hostId(c)).setPages(pages).build();
  }

  private Message locateEntity(int c) {
    List<String> types = List.of("PageFrame", "Ksm", "GuestMmu", "HostMmu", "Vcpu");
    LocateEntityRequest.Builder b = LocateEntityRequest.newBuilder();
    switch (c) {
      case VALID -> {
        String t = pick(types);
        int vm = liveVm();
        String id =
            switch (t) {
              case "PageFrame", "Ksm" -> "host-" + pick(hosts);
              case "Vcpu" -> "vm-" + vm + "/vcpu-0";
              default -> "vm-" + vm;
            };
        b.setEntityType(t).setEntityId(id);
      }
      case NEAR -> b.setEntityType(pick(types) + "x").setEntityId("vm-1");
      default -> {
        byte[] bytes = new byte[r.nextInt(40)];
        r.nextBytes(bytes);
        b.setEntityType(
                r.nextBoolean()
                    ? pick(types)
                    : new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1))
            .setEntityId("vm-" + anyLong() + (r.nextBoolean() ? "/vcpu-" + anyInt() : ""));
      }
    }
    return b.build();
  }

  private Message access(int c) {
    AccessRequest.Builder b =
        AccessRequest.newBuilder()
            .setVcpu(vcpu(c))
            .setKind(pick(List.of(AccessKind.ACCESS_KIND_LOAD, AccessKind.ACCESS_KIND_STORE)))
            .setEffectiveAddr(ea(c == NEAR ? VALID : c))
            .setStoreValue(r.nextLong());
    if (c == NEAR) {
      switch (r.nextInt(3)) {
        case 0 -> b.setKindValue(0);
        case 1 -> b.setKind(AccessKind.ACCESS_KIND_IFETCH);
        default -> b.setEffectiveAddr(ea(NEAR));
      }
    } else if (c == GARBAGE) {
      b.setKindValue(anyEnum()).setStoreValue(anyLong());
    }
    return b.build();
  }

  private Message echo(int c) {
    int n =
        switch (c) {
          case VALID -> r.nextInt(256);
          case NEAR -> EchoService.MAX_PAYLOAD_BYTES + 1;
          default -> r.nextInt(2 * EchoService.MAX_PAYLOAD_BYTES);
        };
    byte[] bytes = new byte[n];
    r.nextBytes(bytes);
    return EchoRequest.newBuilder().setPayload(ByteString.copyFrom(bytes)).build();
  }

  /** A short stream: 1 to 3 batches on one vCPU (the first carrying it). */
  private List<RunWorkloadRequest> workload(int c) {
    VcpuRef v = vcpu(c == GARBAGE && r.nextBoolean() ? VALID : c);
    List<RunWorkloadRequest> out = new ArrayList<>();
    long batch = 1 + r.nextInt(5);
    for (int i = 1 + r.nextInt(3); i > 0; i--) {
      RunWorkloadRequest.Builder b = RunWorkloadRequest.newBuilder().setBatchId(batch++);
      if (out.isEmpty()) {
        b.setVcpu(v);
      } else if (c == NEAR && r.nextInt(3) == 0) {
        b.setVcpu(v); // a vCPU again on a later batch
      }
      for (int a = (c == NEAR && r.nextInt(4) == 0) ? 0 : 1 + r.nextInt(24); a > 0; a--) {
        WorkloadAccess.Builder w =
            WorkloadAccess.newBuilder()
                .setKind(pick(List.of(AccessKind.ACCESS_KIND_LOAD, AccessKind.ACCESS_KIND_STORE)))
                .setEffectiveAddr(ea(VALID))
                .setStoreValue(r.nextInt(8));
        if (c == GARBAGE) {
          w.setKindValue(anyEnum()).setEffectiveAddr(anyLong()).setStoreValue(anyLong());
        } else if (c == NEAR && r.nextInt(8) == 0) {
          w.setEffectiveAddr(ea(NEAR));
        }
        b.addAccesses(w);
      }
      if (c == GARBAGE && r.nextBoolean()) {
        b.setBatchId(anyLong());
      }
      out.add(b.build());
    }
    return out;
  }

  // ---- dispatch --------------------------------------------------------------------------------

  private static Status status(Supplier<?> call) {
    try {
      call.get();
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  /** Sends {@code m} to {@code rpc}; the status; on success keeps the host and VM lists. */
  private Status send(String rpc, Message m) {
    return switch (rpc) {
      case "CreateHost" -> {
        Status s = status(() -> hostStub().createHost((CreateHostRequest) m));
        if (s.isOk()) {
          hosts.add(((CreateHostRequest) m).getHostId());
        }
        yield s;
      }
      case "DeleteHost" -> {
        Status s = status(() -> hostStub().deleteHost((DeleteHostRequest) m));
        if (s.isOk()) {
          hosts.remove(Integer.valueOf(((DeleteHostRequest) m).getHostId()));
        }
        yield s;
      }
      case "ListHosts" -> status(() -> hostStub().listHosts((ListHostsRequest) m));
      case "GetHostStats" -> status(() -> hostStub().getHostStats((GetHostStatsRequest) m));
      case "CreateVm" -> {
        Status s = status(() -> vmStub().createVm((CreateVmRequest) m));
        if (s.isOk()) {
          CreateVmRequest q = (CreateVmRequest) m;
          vms.put(
              q.getVmId(),
              new int[] {
                q.getHostId(),
                q.getMmuKind() == MmuKind.MMU_KIND_BOOK3S_64 ? 1 : 0,
                q.getVcpuCount()
              });
        }
        yield s;
      }
      case "DeleteVm" -> {
        Status s = status(() -> vmStub().deleteVm((DeleteVmRequest) m));
        if (s.isOk()) {
          vms.remove(((DeleteVmRequest) m).getVm().getVmId());
        }
        yield s;
      }
      case "GetVm" -> status(() -> vmStub().getVm((GetVmRequest) m));
      case "GetVmStats" -> status(() -> vmStub().getVmStats((GetVmStatsRequest) m));
      case "SetVcpuState" -> status(() -> vmStub().setVcpuState((SetVcpuStateRequest) m));
      case "AddMemslot" -> status(() -> vmStub().addMemslot((AddMemslotRequest) m));
      case "RemoveMemslot" -> status(() -> vmStub().removeMemslot((RemoveMemslotRequest) m));
      case "LoadMemory" -> status(() -> vmStub().loadMemory((LoadMemoryRequest) m));
      case "ReadMemory" -> status(() -> vmStub().readMemory((ReadMemoryRequest) m));
      case "InsertHpte" -> status(() -> vmStub().insertHpte((InsertHpteRequest) m));
      case "RemoveHpte" -> status(() -> vmStub().removeHpte((RemoveHpteRequest) m));
      case "ReadRc" -> status(() -> vmStub().readRc((ReadRcRequest) m));
      case "ClearRc" -> status(() -> vmStub().clearRc((ClearRcRequest) m));
      case "SetKsmControl" -> status(() -> ksmStub().setKsmControl((SetKsmControlRequest) m));
      case "RunKsmPasses" -> status(() -> ksmStub().runKsmPasses((RunKsmPassesRequest) m));
      case "RunKsmBatch" -> status(() -> ksmStub().runKsmBatch((RunKsmBatchRequest) m));
      case "GetKsmCounters" -> status(() -> ksmStub().getKsmCounters((GetKsmCountersRequest) m));
      case "GetMembers" -> status(() -> clusterStub().getMembers((GetMembersRequest) m));
      case "CheckInvariants" ->
          status(() -> clusterStub().checkInvariants((CheckInvariantsRequest) m));
      case "LocateEntity" -> status(() -> clusterStub().locateEntity((LocateEntityRequest) m));
      case "Access" -> status(() -> accessStub().access((AccessRequest) m));
      case "Echo" -> status(() -> echoStub().echo((EchoRequest) m));
      default -> throw new AssertionError("no dispatch for " + rpc);
    };
  }

  /** Runs one short stream; its final status; every batch answer counted each access once. */
  private Status stream(List<RunWorkloadRequest> batches) throws InterruptedException {
    Mesh.Answers a = new Mesh.Answers();
    StreamObserver<RunWorkloadRequest> req =
        AccessServiceGrpc.newStub(mesh.channel)
            .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
            .runWorkload(a);
    for (RunWorkloadRequest b : batches) {
      req.onNext(b);
    }
    req.onCompleted();
    while (true) {
      Object o = a.next();
      if (o instanceof RunWorkloadResponse resp) {
        RunWorkloadRequest sent =
            batches.stream()
                .filter(b -> b.getBatchId() == resp.getBatchId())
                .findFirst()
                .orElse(null);
        if (sent == null) {
          bad.add("RunWorkload answered unknown batch " + resp.getBatchId() + " for " + batches);
        } else if (resp.getCompleted() + resp.getFailed() != sent.getAccessesCount()) {
          bad.add(
              "RunWorkload batch "
                  + resp.getBatchId()
                  + ": completed "
                  + resp.getCompleted()
                  + " + failed "
                  + resp.getFailed()
                  + " != "
                  + sent.getAccessesCount()
                  + " accesses");
        }
        workloadAccesses += sent == null ? 0 : sent.getAccessesCount();
      } else {
        return o instanceof Status s ? s : Status.OK;
      }
    }
  }

  // ---- the test
  // ----------------------------------------------------------------------------------

  private void setUp() {
    hostStub().createHost(MalformedRequests.host().build());
    hostStub()
        .createHost(
            MalformedRequests.host().setHostId(2).setHostMmu(HostMmuKind.HOST_MMU_KIND_32).build());
    int[][] core = {{1, 1, 1}, {2, 2, 0}, {3, 1, 1}}; // vm, host, 64-bit
    for (int[] c : core) {
      vmStub()
          .createVm(
              MalformedRequests.vm()
                  .setVmId(c[0])
                  .setHostId(c[1])
                  .setMmuKind(c[2] == 1 ? MmuKind.MMU_KIND_BOOK3S_64 : MmuKind.MMU_KIND_BOOK3S_32)
                  .setVcpuCount(2)
                  .setKsmMergeable(true)
                  .setOptions(MmuOptions.newBuilder().setPolicy(policy()))
                  .build());
      vms.put(c[0], new int[] {c[1], c[2], 2});
    }
  }

  /** The RPCs and their weights (most are cheap validations or reads). */
  private static final Object[][] MIX = {
    {"CreateHost", 2},
    {"DeleteHost", 2},
    {"ListHosts", 2},
    {"GetHostStats", 3},
    {"CreateVm", 3},
    {"DeleteVm", 2},
    {"GetVm", 4},
    {"GetVmStats", 4},
    {"SetVcpuState", 5},
    {"AddMemslot", 4},
    {"RemoveMemslot", 4},
    {"LoadMemory", 5},
    {"ReadMemory", 5},
    {"InsertHpte", 7},
    {"RemoveHpte", 5},
    {"ReadRc", 4},
    {"ClearRc", 4},
    {"SetKsmControl", 3},
    {"RunKsmPasses", 3},
    {"RunKsmBatch", 3},
    {"GetKsmCounters", 3},
    {"GetMembers", 1},
    {"CheckInvariants", 1},
    {"LocateEntity", 3},
    {"Access", 12},
    {"Echo", 3},
    {"RunWorkload", 3},
  };

  private String nextRpc() {
    int total = 0;
    for (Object[] e : MIX) {
      total += (int) e[1];
    }
    int x = r.nextInt(total);
    for (Object[] e : MIX) {
      x -= (int) e[1];
      if (x < 0) {
        return (String) e[0];
      }
    }
    throw new AssertionError();
  }

  private Message request(String rpc, int c) {
    return switch (rpc) {
      case "CreateHost" -> createHost(c);
      case "DeleteHost" -> deleteHost(c);
      case "ListHosts" -> ListHostsRequest.getDefaultInstance();
      case "GetHostStats" -> GetHostStatsRequest.newBuilder().setHostId(hostId(c)).build();
      case "CreateVm" -> createVm(c);
      case "DeleteVm" -> deleteVm(c);
      case "GetVm" -> GetVmRequest.newBuilder().setVm(MalformedRequests.vmRef(vmId(c))).build();
      case "GetVmStats" ->
          GetVmStatsRequest.newBuilder().setVm(MalformedRequests.vmRef(vmId(c))).build();
      case "SetVcpuState" -> setVcpuState(c);
      case "AddMemslot" -> addMemslot(c);
      case "RemoveMemslot" -> removeMemslot(c);
      case "LoadMemory" -> loadMemory(c);
      case "ReadMemory" -> readMemory(c);
      case "InsertHpte" -> insertHpte(c);
      case "RemoveHpte" -> removeHpte(c);
      case "ReadRc" -> readRc(c);
      case "ClearRc" -> clearRc(c);
      case "SetKsmControl" -> setKsmControl(c);
      case "RunKsmPasses" -> runKsmPasses(c);
      case "RunKsmBatch" -> runKsmBatch(c);
      case "GetKsmCounters" -> GetKsmCountersRequest.newBuilder().setHostId(hostId(c)).build();
      case "GetMembers" -> GetMembersRequest.getDefaultInstance();
      case "CheckInvariants" -> CheckInvariantsRequest.getDefaultInstance();
      case "LocateEntity" -> locateEntity(c);
      case "Access" -> access(c);
      case "Echo" -> echo(c);
      default -> throw new AssertionError("no generator for " + rpc);
    };
  }

  private static String brief(Message m) {
    String s = m.toString().replace('\n', ' ');
    return s.length() > 600 ? s.substring(0, 600) + "..." : s;
  }

  private void record(String rpc, int c, Status s, Object request) {
    if (TRACE) {
      log.warn(
          "fuzz trace #{} {} [{}] -> {} {} for {}",
          tally.values().stream().flatMap(m -> m.values().stream()).mapToInt(x -> x).sum(),
          rpc,
          c,
          s.getCode(),
          s.getDescription(),
          request instanceof Message m ? brief(m) : request);
    }
    tally.computeIfAbsent(rpc, k -> new TreeMap<>()).merge(s.getCode(), 1, Integer::sum);
    if (!DOCUMENTED.contains(s.getCode())) {
      String req =
          request instanceof Message m
              ? brief(m)
              : request instanceof List<?> l
                  ? l.stream().map(x -> brief((Message) x)).toList().toString()
                  : String.valueOf(request);
      bad.add(
          rpc
              + " ["
              + List.of("valid", "near", "garbage").get(c)
              + "] -> "
              + s.getCode()
              + " "
              + s.getDescription()
              + (s.getCause() != null ? " cause " + s.getCause() : "")
              + " for request { "
              + req
              + " }");
    }
  }

  @Test
  void tenThousandRandomRequests_noInternal_serverHealthy_invariantsHold() throws Exception {
    long seed = Long.getLong("mmumesh.fuzz.seed", DEFAULT_SEED);
    int requests = Integer.getInteger("mmumesh.fuzz.requests", DEFAULT_REQUESTS);
    log.info("GatewayFuzzTest seed {} (-Dmmumesh.fuzz.seed=...), {} requests", seed, requests);
    r = new Random(seed);
    setUp();

    long t0 = System.nanoTime();
    for (int i = 0; i < requests; i++) {
      String rpc = nextRpc();
      int c = category();
      if (rpc.equals("RunWorkload")) {
        List<RunWorkloadRequest> batches = workload(c);
        record(rpc, c, stream(batches), batches);
      } else {
        Message m = request(rpc, c);
        record(rpc, c, send(rpc, m), m);
      }
    }
    long fuzzMillis = (System.nanoTime() - t0) / 1_000_000;
    log.info(
        "GatewayFuzzTest seed {}: {} requests in {} ms, {} workload accesses, {} hosts and {} VMs"
            + " live; statuses by RPC {}",
        seed,
        requests,
        fuzzMillis,
        workloadAccesses,
        hosts.size(),
        vms.size(),
        tally);

    // the invariants first (so a failure below still reports them), as the entities check them
    List<String> violations = invariantViolations();
    System.err.println(
        "GatewayFuzzTest seed "
            + seed
            + ": "
            + requests
            + " requests in "
            + fuzzMillis
            + " ms; "
            + bad.size()
            + " bad answers; "
            + violations.size()
            + " invariant violations "
            + violations
            + "; statuses by RPC "
            + tally);
    assertThat(bad)
        .as(
            "seed "
                + seed
                + ": undocumented statuses (or timeouts) and miscounted batches; invariant"
                + " violations "
                + violations)
        .isEmpty();
    assertThat(violations).as("seed " + seed + ": invariant violations").isEmpty();
    int total = tally.values().stream().flatMap(m -> m.values().stream()).mapToInt(x -> x).sum();
    assertThat(total).isEqualTo(requests);
    assertThat(tally.keySet()).as("every RPC was called").hasSize(MIX.length);
    // the valid part of the mix really changed state
    for (String rpc :
        List.of("CreateVm", "InsertHpte", "AddMemslot", "RemoveMemslot", "LoadMemory", "Access")) {
      assertThat(tally.get(rpc)).as(rpc + " succeeded sometimes").containsKey(Status.Code.OK);
    }
    assertThat(workloadAccesses).isPositive();

    // the server is healthy
    HealthCheckResponse health =
        HealthGrpc.newBlockingStub(mesh.channel)
            .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance());
    assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

    // a fresh VM's valid workload runs to completion, every access counted once
    int fresh = nextVmId++;
    vmStub()
        .createVm(
            MalformedRequests.vm()
                .setVmId(fresh)
                .setHostId(1)
                .setVcpuCount(1)
                .setOptions(MmuOptions.newBuilder().setPolicy(Policy.POLICY_STRICT))
                .build());
    vms.put(fresh, new int[] {1, 1, 1});
    List<Object> answers = mesh.runWorkload(SimulationEndToEndTest.workload(fresh, 16));
    assertThat(answers).hasSize(5);
    assertThat(answers.get(4)).isEqualTo("completed");
    for (int i = 0; i < 4; i++) {
      RunWorkloadResponse resp = (RunWorkloadResponse) answers.get(i);
      assertThat(resp.getCompleted()).as(resp.getFailuresList().toString()).isEqualTo(16);
      assertThat(resp.getFailed()).isZero();
    }

    // and still no violation after it
    assertThat(invariantViolations()).as("seed " + seed + ": invariant violations").isEmpty();
  }

  /** The invariants as the API reports them ({@code ClusterService.CheckInvariants}). */
  private List<String> invariantViolations() {
    CheckInvariantsResponse r =
        clusterStub().checkInvariants(CheckInvariantsRequest.getDefaultInstance());
    assertThat(r.getHostsChecked()).as("hosts checked").isEqualTo(hosts.size());
    assertThat(r.getVmsChecked()).as("VMs checked").isEqualTo(vms.size());
    log.info(
        "GatewayFuzzTest invariants checked on {} hosts and {} VMs: {} violations",
        r.getHostsChecked(),
        r.getVmsChecked(),
        r.getViolationsCount());
    return r.getViolationsList();
  }
}
