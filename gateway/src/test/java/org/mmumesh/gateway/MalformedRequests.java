package org.mmumesh.gateway;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import org.mmumesh.proto.v1.AccessKind;
import org.mmumesh.proto.v1.AccessRequest;
import org.mmumesh.proto.v1.AddMemslotRequest;
import org.mmumesh.proto.v1.Bat;
import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.CreateVmRequest;
import org.mmumesh.proto.v1.DeleteHostRequest;
import org.mmumesh.proto.v1.DeleteVmRequest;
import org.mmumesh.proto.v1.EventKind;
import org.mmumesh.proto.v1.Fingerprints;
import org.mmumesh.proto.v1.GetHostStatsRequest;
import org.mmumesh.proto.v1.GetKsmCountersRequest;
import org.mmumesh.proto.v1.GetVmRequest;
import org.mmumesh.proto.v1.GetVmStatsRequest;
import org.mmumesh.proto.v1.HostMmuKind;
import org.mmumesh.proto.v1.InsertHpteRequest;
import org.mmumesh.proto.v1.KsmRun;
import org.mmumesh.proto.v1.LoadMemoryRequest;
import org.mmumesh.proto.v1.LocateEntityRequest;
import org.mmumesh.proto.v1.Memslot;
import org.mmumesh.proto.v1.MmuKind;
import org.mmumesh.proto.v1.MmuOptions;
import org.mmumesh.proto.v1.MsrBits;
import org.mmumesh.proto.v1.PackedAccesses;
import org.mmumesh.proto.v1.Policy;
import org.mmumesh.proto.v1.Quirk;
import org.mmumesh.proto.v1.ReadMemoryRequest;
import org.mmumesh.proto.v1.ReadRcRequest;
import org.mmumesh.proto.v1.RemoveMemslotRequest;
import org.mmumesh.proto.v1.RunKsmBatchRequest;
import org.mmumesh.proto.v1.RunKsmPassesRequest;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.SegmentRegister;
import org.mmumesh.proto.v1.SetKsmControlRequest;
import org.mmumesh.proto.v1.SetVcpuStateRequest;
import org.mmumesh.proto.v1.SlbEntry;
import org.mmumesh.proto.v1.VcpuRef;
import org.mmumesh.proto.v1.VmRef;
import org.mmumesh.proto.v1.WatchEventsRequest;
import org.mmumesh.proto.v1.WorkloadAccess;

/**
 * The table of malformed requests: each with the RPC it goes to, the status it must get and the
 * field its message must name. Statically malformed ones (checked before the simulation is asked)
 * are here; ones that need the simulation's state (unknown ids, wrong MMU kind for a VM) are added
 * by the end-to-end table.
 */
final class MalformedRequests {
  private MalformedRequests() {}

  /** One row. */
  record Case(String name, String rpc, Message request, Status.Code code, String field) {
    @Override
    public String toString() {
      return name;
    }
  }

  static CreateHostRequest.Builder host() {
    return CreateHostRequest.newBuilder()
        .setHostId(1)
        .setHostMmu(HostMmuKind.HOST_MMU_KIND_64)
        .setMaxFrames(4096);
  }

  static CreateVmRequest.Builder vm() {
    return CreateVmRequest.newBuilder()
        .setVmId(1)
        .setHostId(1)
        .setMmuKind(MmuKind.MMU_KIND_BOOK3S_64)
        .setMemorySizeBytes(1 << 20)
        .setVcpuCount(1)
        .setOptions(MmuOptions.newBuilder().setPolicy(Policy.POLICY_STRICT));
  }

  static VcpuRef vcpu(int vm, int n) {
    return VcpuRef.newBuilder().setVmId(vm).setVcpuIndex(n).build();
  }

  static VmRef vmRef(int vm) {
    return VmRef.newBuilder().setVmId(vm).build();
  }

  static WorkloadAccess load(long ea) {
    return WorkloadAccess.newBuilder()
        .setKind(AccessKind.ACCESS_KIND_LOAD)
        .setEffectiveAddr(ea)
        .build();
  }

  /** A packed batch of {@code kinds} (AccessKind numbers) at {@code eas}, no store values. */
  static PackedAccesses.Builder packed(byte[] kinds, long... eas) {
    PackedAccesses.Builder p = PackedAccesses.newBuilder().setKinds(ByteString.copyFrom(kinds));
    for (long ea : eas) {
      p.addEffectiveAddrs(ea);
    }
    return p;
  }

  /**
   * A row sent as raw bytes (the request as it would arrive from a broken or hostile client) to the
   * method {@code method} (full name): it must get INVALID_ARGUMENT whose description starts with
   * {@code field + ": "} and names {@code problem}.
   */
  record RawCase(String name, String method, byte[] bytes, String field, String problem) {
    @Override
    public String toString() {
      return name;
    }
  }

  static byte[] bytes(int... b) {
    byte[] out = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = (byte) b[i];
    }
    return out;
  }

  /** {@code m} without its last byte: the last field's value ends early. */
  static byte[] truncated(Message m) {
    byte[] b = m.toByteArray();
    return java.util.Arrays.copyOf(b, b.length - 1);
  }

  /** {@code m}'s encoding followed by {@code tail}. */
  static byte[] then(Message m, byte[] tail) {
    byte[] b = m.toByteArray();
    byte[] out = java.util.Arrays.copyOf(b, b.length + tail.length);
    System.arraycopy(tail, 0, out, b.length, tail.length);
    return out;
  }

  /**
   * Undecodable requests (invalid UTF-8, garbage, truncated varints and lengths) and unknown enum
   * numbers, for every service with a string field or an enum in a request (and Echo's bytes).
   */
  static List<RawCase> rawCases() {
    String host = "mmumesh.v1.HostService/";
    String vmS = "mmumesh.v1.VmService/";
    String acc = "mmumesh.v1.AccessService/";
    String ksm = "mmumesh.v1.KsmService/";
    String cl = "mmumesh.v1.ClusterService/";
    String ev = "mmumesh.v1.EventService/";
    String utf8 = "not valid UTF-8";
    String cut = "truncated";
    byte[] elevenByteVarint =
        bytes(0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF);
    List<RawCase> c = new ArrayList<>();
    c.add(
        new RawCase(
            "host: garbage (wire type 7)",
            host + "CreateHost",
            bytes(0x0F, 0xFF, 0x00),
            "host_id",
            "wire type"));
    c.add(
        new RawCase(
            "host: zero bytes (field 0)",
            host + "CreateHost",
            bytes(0, 0, 0, 0),
            "request",
            "invalid tag (zero)"));
    c.add(
        new RawCase(
            "host: truncated varint",
            host + "CreateHost",
            truncated(host().setHostId(300).clearHostMmu().clearMaxFrames().build()),
            "host_id",
            cut));
    c.add(
        new RawCase(
            "host: 11-byte varint",
            host + "CreateHost",
            elevenByteVarint,
            "host_id",
            "malformed varint"));
    c.add(
        new RawCase(
            "host: host_mmu number 9",
            host + "CreateHost",
            host().setHostMmuValue(9).build().toByteArray(),
            "host_mmu",
            "unknown number 9"));
    c.add(
        new RawCase(
            "host stats: garbage", host + "GetHostStats", bytes(0xFF, 0xFF, 0xFF), "request", cut));
    c.add(
        new RawCase(
            "locate: entity_type not UTF-8",
            cl + "LocateEntity",
            bytes(0x0A, 0x02, 0xC3, 0x28, 0x12, 0x04, 'v', 'm', '-', '1'),
            "entity_type",
            utf8));
    c.add(
        new RawCase(
            "locate: entity_id a lone continuation byte",
            cl + "LocateEntity",
            bytes(0x0A, 0x04, 'V', 'c', 'p', 'u', 0x12, 0x01, 0x80),
            "entity_id",
            utf8));
    c.add(
        new RawCase(
            "locate: entity_id an overlong NUL",
            cl + "LocateEntity",
            bytes(0x0A, 0x04, 'V', 'c', 'p', 'u', 0x12, 0x02, 0xC0, 0x80),
            "entity_id",
            utf8));
    c.add(
        new RawCase(
            "locate: entity_id longer than the request",
            cl + "LocateEntity",
            bytes(0x0A, 0x04, 'V', 'c', 'p', 'u', 0x12, 0x20, 'v'),
            "entity_id",
            cut));
    c.add(
        new RawCase(
            "watch: kinds number 77",
            ev + "WatchEvents",
            WatchEventsRequest.newBuilder().addKindsValue(77).build().toByteArray(),
            "kinds[0]",
            "unknown number 77"));
    c.add(
        new RawCase(
            "watch: kinds number 6 unpacked",
            ev + "WatchEvents",
            bytes(0x08, 0x01, 0x08, 0x06),
            "kinds[1]",
            "unknown number 6"));
    c.add(
        new RawCase(
            "watch: truncated varint",
            ev + "WatchEvents",
            truncated(WatchEventsRequest.newBuilder().setHostId(300).build()),
            "host_id",
            cut));
    c.add(
        new RawCase(
            "watch: garbage", ev + "WatchEvents", elevenByteVarint, "kinds", "malformed varint"));
    c.add(
        new RawCase(
            "vm: mmu_kind number 7",
            vmS + "CreateVm",
            vm().setMmuKindValue(7).build().toByteArray(),
            "mmu_kind",
            "unknown number 7"));
    c.add(
        new RawCase(
            "vm: options.policy number 42",
            vmS + "CreateVm",
            vm().setOptions(MmuOptions.newBuilder().setPolicyValue(42)).build().toByteArray(),
            "options.policy",
            "unknown number 42"));
    c.add(
        new RawCase(
            "vm: options.quirks number 6",
            vmS + "CreateVm",
            vm().setOptions(
                    MmuOptions.newBuilder().setPolicy(Policy.POLICY_FIXED).addQuirksValue(6))
                .build()
                .toByteArray(),
            "options.quirks[0]",
            "unknown number 6"));
    c.add(
        new RawCase(
            "vm: options longer than the request",
            vmS + "CreateVm",
            truncated(vm().build()),
            "options",
            cut));
    c.add(
        new RawCase(
            "vm: options.policy truncated varint",
            vmS + "CreateVm",
            then(vm().clearOptions().build(), bytes(0x32, 0x02, 0x08, 0x80)),
            "options.policy",
            cut));
    c.add(
        new RawCase(
            "vm load: image longer than the request",
            vmS + "LoadMemory",
            bytes(0x0A, 0x02, 0x08, 0x01, 0x1A, 0x80, 0x20, 0x00),
            "image",
            cut));
    c.add(
        new RawCase(
            "vm get: vm.vm_id truncated",
            vmS + "GetVm",
            bytes(0x0A, 0x02, 0x08, 0x80),
            "vm.vm_id",
            cut));
    c.add(
        new RawCase(
            "access: kind number 12",
            acc + "Access",
            AccessRequest.newBuilder().setVcpu(vcpu(1, 0)).setKindValue(12).build().toByteArray(),
            "kind",
            "unknown number 12"));
    c.add(
        new RawCase(
            "access: vcpu longer than the request",
            acc + "Access",
            truncated(AccessRequest.newBuilder().setVcpu(vcpu(1, 300)).build()),
            "vcpu",
            cut));
    c.add(
        new RawCase(
            "batch: accesses[0].kind number 9",
            acc + "RunWorkload",
            RunWorkloadRequest.newBuilder()
                .setVcpu(vcpu(1, 0))
                .addAccesses(WorkloadAccess.newBuilder().setKindValue(9))
                .build()
                .toByteArray(),
            "accesses[0].kind",
            "unknown number 9"));
    c.add(
        new RawCase(
            "batch: accesses longer than the request",
            acc + "RunWorkload",
            truncated(
                RunWorkloadRequest.newBuilder()
                    .setVcpu(vcpu(1, 0))
                    .addAccesses(load(0x1234))
                    .build()),
            "accesses",
            cut));
    c.add(
        new RawCase(
            "ksm: run number 9",
            ksm + "SetKsmControl",
            SetKsmControlRequest.newBuilder().setHostId(1).setRunValue(9).build().toByteArray(),
            "run",
            "unknown number 9"));
    c.add(
        new RawCase(
            "ksm: pages truncated varint",
            ksm + "RunKsmBatch",
            truncated(RunKsmBatchRequest.newBuilder().setHostId(1).setPages(1000).build()),
            "pages",
            cut));
    c.add(
        new RawCase(
            "echo: payload longer than the request",
            "mmumesh.v1.EchoService/Echo",
            bytes(0x0A, 0x05, 0x01),
            "payload",
            cut));
    return c;
  }

  static List<Case> cases() {
    Status.Code bad = Status.Code.INVALID_ARGUMENT;
    List<Case> c = new ArrayList<>();
    // HostService.CreateHost
    c.add(
        new Case("host id too big", "CreateHost", host().setHostId(1024).build(), bad, "host_id"));
    c.add(
        new Case(
            "host id negative (uint wrap)",
            "CreateHost",
            host().setHostId(-1).build(),
            bad,
            "host_id"));
    c.add(
        new Case(
            "host mmu unspecified",
            "CreateHost",
            host().setHostMmu(HostMmuKind.HOST_MMU_KIND_UNSPECIFIED).build(),
            bad,
            "host_mmu"));
    c.add(
        new Case(
            "host mmu unknown value",
            "CreateHost",
            host().setHostMmuValue(9).build(),
            bad,
            "host_mmu"));
    c.add(
        new Case(
            "host zero frames", "CreateHost", host().setMaxFrames(0).build(), bad, "max_frames"));
    c.add(
        new Case(
            "host too many frames",
            "CreateHost",
            host().setMaxFrames((1L << 24) + 1).build(),
            bad,
            "max_frames"));
    c.add(
        new Case(
            "host frames uint64 max",
            "CreateHost",
            host().setMaxFrames(-1L).build(),
            bad,
            "max_frames"));
    // VmService.CreateVm
    c.add(new Case("vm id too big", "CreateVm", vm().setVmId(65536).build(), bad, "vm_id"));
    c.add(new Case("vm host id too big", "CreateVm", vm().setHostId(5000).build(), bad, "host_id"));
    c.add(
        new Case(
            "vm mmu unspecified",
            "CreateVm",
            vm().setMmuKind(MmuKind.MMU_KIND_UNSPECIFIED).build(),
            bad,
            "mmu_kind"));
    c.add(new Case("vm mmu unknown", "CreateVm", vm().setMmuKindValue(7).build(), bad, "mmu_kind"));
    c.add(
        new Case(
            "vm memory zero",
            "CreateVm",
            vm().setMemorySizeBytes(0).build(),
            bad,
            "memory_size_bytes"));
    c.add(
        new Case(
            "vm memory below 64 KiB",
            "CreateVm",
            vm().setMemorySizeBytes(32768).build(),
            bad,
            "memory_size_bytes"));
    c.add(
        new Case(
            "vm memory unaligned",
            "CreateVm",
            vm().setMemorySizeBytes((1 << 20) + 1).build(),
            bad,
            "memory_size_bytes"));
    c.add(
        new Case(
            "vm 32-bit memory over 4 GiB",
            "CreateVm",
            vm().setMmuKind(MmuKind.MMU_KIND_BOOK3S_32)
                .setMemorySizeBytes((1L << 32) + 4096)
                .build(),
            bad,
            "memory_size_bytes"));
    c.add(
        new Case(
            "vm 64-bit memory over 64 GiB",
            "CreateVm",
            vm().setMemorySizeBytes((1L << 36) + 4096).build(),
            bad,
            "memory_size_bytes"));
    c.add(new Case("vm zero vcpus", "CreateVm", vm().setVcpuCount(0).build(), bad, "vcpu_count"));
    c.add(new Case("vm 65 vcpus", "CreateVm", vm().setVcpuCount(65).build(), bad, "vcpu_count"));
    c.add(new Case("vm options missing", "CreateVm", vm().clearOptions().build(), bad, "options"));
    c.add(
        new Case(
            "vm policy unspecified",
            "CreateVm",
            vm().setOptions(MmuOptions.newBuilder()).build(),
            bad,
            "options.policy"));
    c.add(
        new Case(
            "vm policy unknown",
            "CreateVm",
            vm().setOptions(MmuOptions.newBuilder().setPolicyValue(42)).build(),
            bad,
            "options.policy"));
    c.add(
        new Case(
            "vm quirk unspecified",
            "CreateVm",
            vm().setOptions(
                    MmuOptions.newBuilder()
                        .setPolicy(Policy.POLICY_FIXED)
                        .addQuirks(Quirk.QUIRK_UNSPECIFIED))
                .build(),
            bad,
            "options.quirks[0]"));
    c.add(
        new Case(
            "vm quirk q6 (no such quirk)",
            "CreateVm",
            vm().setOptions(
                    MmuOptions.newBuilder()
                        .setPolicy(Policy.POLICY_FIXED)
                        .addQuirks(Quirk.QUIRK_Q1_RC_LOST)
                        .addQuirksValue(6))
                .build(),
            bad,
            "options.quirks[1]"));
    c.add(
        new Case(
            "vm tlb not a power of two",
            "CreateVm",
            vm().setTlbEntries(1000).build(),
            bad,
            "tlb_entries"));
    c.add(
        new Case(
            "vm tlb too big", "CreateVm", vm().setTlbEntries(1 << 17).build(), bad, "tlb_entries"));
    // VmService.SetVcpuState
    SetVcpuStateRequest.Builder st = SetVcpuStateRequest.newBuilder().setVcpu(vcpu(1, 0));
    c.add(
        new Case(
            "state vcpu missing",
            "SetVcpuState",
            SetVcpuStateRequest.newBuilder().build(),
            bad,
            "vcpu"));
    c.add(
        new Case(
            "state vcpu index 64",
            "SetVcpuState",
            st.clone().setVcpu(vcpu(1, 64)).build(),
            bad,
            "vcpu.vcpu_index"));
    c.add(
        new Case(
            "state vm id too big",
            "SetVcpuState",
            st.clone().setVcpu(vcpu(70000, 0)).build(),
            bad,
            "vcpu.vm_id"));
    c.add(
        new Case(
            "state SR index 16",
            "SetVcpuState",
            st.clone().addSegmentRegisters(SegmentRegister.newBuilder().setIndex(16)).build(),
            bad,
            "segment_registers[0].index"));
    c.add(
        new Case(
            "state SLB index 64",
            "SetVcpuState",
            st.clone().addSlbEntries(SlbEntry.newBuilder().setIndex(64)).build(),
            bad,
            "slb_entries[0].index"));
    c.add(
        new Case(
            "state BAT index 4",
            "SetVcpuState",
            st.clone().addBats(Bat.newBuilder().setIndex(4)).build(),
            bad,
            "bats[0].index"));
    SetVcpuStateRequest.Builder tooMany = st.clone();
    for (int i = 0; i <= Limits.MAX_STATE_CHANGES; i++) {
      tooMany.addSlbEntries(SlbEntry.newBuilder().setIndex(i % 64));
    }
    c.add(
        new Case(
            "state 4097 changes",
            "SetVcpuState",
            tooMany.build(),
            bad,
            "segment_registers + slb_entries + bats + msr + sdr1"));
    c.add(
        new Case(
            "state SRs and SLB together",
            "SetVcpuState",
            st.clone()
                .addSegmentRegisters(SegmentRegister.newBuilder().setIndex(1))
                .addSlbEntries(SlbEntry.newBuilder().setIndex(1))
                .build(),
            bad,
            "slb_entries"));
    // VmService.AddMemslot
    Memslot.Builder ms =
        Memslot.newBuilder()
            .setSlotId(1)
            .setGuestFrameStart(1024)
            .setPages(16)
            .setHostPageStart(4096);
    c.add(
        new Case(
            "slot vm missing",
            "AddMemslot",
            AddMemslotRequest.newBuilder().setMemslot(ms).build(),
            bad,
            "vm"));
    c.add(
        new Case(
            "slot missing",
            "AddMemslot",
            AddMemslotRequest.newBuilder().setVm(vmRef(1)).build(),
            bad,
            "memslot"));
    c.add(
        new Case(
            "slot id 512",
            "AddMemslot",
            AddMemslotRequest.newBuilder()
                .setVm(vmRef(1))
                .setMemslot(ms.clone().setSlotId(512))
                .build(),
            bad,
            "memslot.slot_id"));
    c.add(
        new Case(
            "slot zero pages",
            "AddMemslot",
            AddMemslotRequest.newBuilder()
                .setVm(vmRef(1))
                .setMemslot(ms.clone().setPages(0))
                .build(),
            bad,
            "memslot.pages"));
    c.add(
        new Case(
            "slot gfn beyond 64 GiB",
            "AddMemslot",
            AddMemslotRequest.newBuilder()
                .setVm(vmRef(1))
                .setMemslot(ms.clone().setGuestFrameStart(1L << 24))
                .build(),
            bad,
            "memslot.guest_frame_start"));
    c.add(
        new Case(
            "slot host page uint64 max",
            "AddMemslot",
            AddMemslotRequest.newBuilder()
                .setVm(vmRef(1))
                .setMemslot(ms.clone().setHostPageStart(-1L))
                .build(),
            bad,
            "memslot.host_page_start"));
    // VmService.LoadMemory / ReadMemory
    c.add(
        new Case(
            "load content missing",
            "LoadMemory",
            LoadMemoryRequest.newBuilder().setVm(vmRef(1)).build(),
            bad,
            "content"));
    c.add(
        new Case(
            "load image unaligned",
            "LoadMemory",
            LoadMemoryRequest.newBuilder()
                .setVm(vmRef(1))
                .setImage(ByteString.copyFrom(new byte[4097]))
                .build(),
            bad,
            "image"));
    c.add(
        new Case(
            "load image empty",
            "LoadMemory",
            LoadMemoryRequest.newBuilder().setVm(vmRef(1)).setImage(ByteString.EMPTY).build(),
            bad,
            "image"));
    c.add(
        new Case(
            "load fingerprints empty",
            "LoadMemory",
            LoadMemoryRequest.newBuilder()
                .setVm(vmRef(1))
                .setFingerprints(Fingerprints.newBuilder())
                .build(),
            bad,
            "fingerprints.values"));
    Fingerprints.Builder many = Fingerprints.newBuilder();
    for (int i = 0; i < 4097; i++) {
      many.addValues(i);
    }
    c.add(
        new Case(
            "load 4097 fingerprints",
            "LoadMemory",
            LoadMemoryRequest.newBuilder().setVm(vmRef(1)).setFingerprints(many).build(),
            bad,
            "fingerprints.values"));
    c.add(
        new Case(
            "load vm missing",
            "LoadMemory",
            LoadMemoryRequest.newBuilder()
                .setFingerprints(Fingerprints.newBuilder().addValues(1))
                .build(),
            bad,
            "vm"));
    c.add(
        new Case(
            "read zero pages",
            "ReadMemory",
            ReadMemoryRequest.newBuilder().setVm(vmRef(1)).setPages(0).build(),
            bad,
            "pages"));
    c.add(
        new Case(
            "read 65537 pages",
            "ReadMemory",
            ReadMemoryRequest.newBuilder().setVm(vmRef(1)).setPages(65537).build(),
            bad,
            "pages"));
    c.add(
        new Case(
            "read gfn beyond 64 GiB",
            "ReadMemory",
            ReadMemoryRequest.newBuilder()
                .setVm(vmRef(1))
                .setPages(1)
                .setGuestFrameStart(1L << 24)
                .build(),
            bad,
            "guest_frame_start"));
    // AccessService
    c.add(
        new Case(
            "access vcpu missing",
            "Access",
            AccessRequest.newBuilder().setKind(AccessKind.ACCESS_KIND_LOAD).build(),
            bad,
            "vcpu"));
    c.add(
        new Case(
            "access kind unspecified",
            "Access",
            AccessRequest.newBuilder().setVcpu(vcpu(1, 0)).build(),
            bad,
            "kind"));
    c.add(
        new Case(
            "access kind unknown",
            "Access",
            AccessRequest.newBuilder().setVcpu(vcpu(1, 0)).setKindValue(12).build(),
            bad,
            "kind"));
    c.add(
        new Case(
            "access vcpu index too big",
            "Access",
            AccessRequest.newBuilder()
                .setVcpu(vcpu(1, 99))
                .setKind(AccessKind.ACCESS_KIND_LOAD)
                .build(),
            bad,
            "vcpu.vcpu_index"));
    c.add(
        new Case(
            "batch empty",
            "RunWorkload",
            RunWorkloadRequest.newBuilder().setVcpu(vcpu(1, 0)).build(),
            bad,
            "accesses"));
    c.add(
        new Case(
            "batch vcpu missing",
            "RunWorkload",
            RunWorkloadRequest.newBuilder().addAccesses(load(0)).build(),
            bad,
            "vcpu"));
    c.add(
        new Case(
            "batch access kind unspecified",
            "RunWorkload",
            RunWorkloadRequest.newBuilder()
                .setVcpu(vcpu(1, 0))
                .addAccesses(load(0))
                .addAccesses(WorkloadAccess.newBuilder())
                .build(),
            bad,
            "accesses[1].kind"));
    RunWorkloadRequest.Builder big = RunWorkloadRequest.newBuilder().setVcpu(vcpu(1, 0));
    for (int i = 0; i < 65537; i++) {
      big.addAccesses(load(i * 8L));
    }
    c.add(new Case("batch oversized", "RunWorkload", big.build(), bad, "accesses"));
    // RunWorkload, the packed encoding
    c.add(
        new Case(
            "batch in both encodings",
            "RunWorkload",
            RunWorkloadRequest.newBuilder()
                .setVcpu(vcpu(1, 0))
                .addAccesses(load(0))
                .setPacked(packed(new byte[] {1}, 0))
                .build(),
            bad,
            "packed"));
    c.add(
        new Case(
            "batch packed empty",
            "RunWorkload",
            RunWorkloadRequest.newBuilder()
                .setVcpu(vcpu(1, 0))
                .setPacked(PackedAccesses.getDefaultInstance())
                .build(),
            bad,
            "packed.kinds"));
    c.add(
        new Case(
            "batch packed vcpu missing",
            "RunWorkload",
            RunWorkloadRequest.newBuilder().setPacked(packed(new byte[] {1}, 0)).build(),
            bad,
            "vcpu"));
    c.add(
        new Case(
            "batch packed fewer addresses than kinds",
            "RunWorkload",
            RunWorkloadRequest.newBuilder()
                .setVcpu(vcpu(1, 0))
                .setPacked(packed(new byte[] {1, 1, 2}, 0, 8))
                .build(),
            bad,
            "packed.effective_addrs"));
    c.add(
        new Case(
            "batch packed more addresses than kinds",
            "RunWorkload",
            RunWorkloadRequest.newBuilder()
                .setVcpu(vcpu(1, 0))
                .setPacked(packed(new byte[] {1}, 0, 8))
                .build(),
            bad,
            "packed.effective_addrs"));
    c.add(
        new Case(
            "batch packed store values of another length",
            "RunWorkload",
            RunWorkloadRequest.newBuilder()
                .setVcpu(vcpu(1, 0))
                .setPacked(packed(new byte[] {2, 2}, 0, 8).addStoreValues(7))
                .build(),
            bad,
            "packed.store_values"));
    c.add(
        new Case(
            "batch packed kind byte 0 (unspecified)",
            "RunWorkload",
            RunWorkloadRequest.newBuilder()
                .setVcpu(vcpu(1, 0))
                .setPacked(packed(new byte[] {1, 0}, 0, 8))
                .build(),
            bad,
            "packed.kinds[1]"));
    c.add(
        new Case(
            "batch packed kind byte 4",
            "RunWorkload",
            RunWorkloadRequest.newBuilder()
                .setVcpu(vcpu(1, 0))
                .setPacked(packed(new byte[] {4}, 0))
                .build(),
            bad,
            "packed.kinds[0]"));
    c.add(
        new Case(
            "batch packed kind byte 255",
            "RunWorkload",
            RunWorkloadRequest.newBuilder()
                .setVcpu(vcpu(1, 0))
                .setPacked(packed(new byte[] {3, 1, (byte) 0xFF}, 0, 8, 16))
                .build(),
            bad,
            "packed.kinds[2]"));
    byte[] bigKinds = new byte[Limits.MAX_BATCH_ACCESSES + 1];
    java.util.Arrays.fill(bigKinds, (byte) 1);
    c.add(
        new Case(
            "batch packed oversized",
            "RunWorkload",
            RunWorkloadRequest.newBuilder()
                .setVcpu(vcpu(1, 0))
                .setPacked(packed(bigKinds, new long[bigKinds.length]))
                .build(),
            bad,
            "packed.kinds"));
    // KsmService
    c.add(
        new Case(
            "ksm host too big",
            "SetKsmControl",
            SetKsmControlRequest.newBuilder().setHostId(2000).build(),
            bad,
            "host_id"));
    c.add(
        new Case(
            "ksm run unknown",
            "SetKsmControl",
            SetKsmControlRequest.newBuilder().setRunValue(9).build(),
            bad,
            "run"));
    c.add(
        new Case(
            "ksm pages_to_scan over UINT_MAX",
            "SetKsmControl",
            SetKsmControlRequest.newBuilder().setPagesToScan(1L << 32).build(),
            bad,
            "pages_to_scan"));
    c.add(
        new Case(
            "ksm sleep over UINT_MAX",
            "SetKsmControl",
            SetKsmControlRequest.newBuilder().setSleepMillisecs(1L << 32).build(),
            bad,
            "sleep_millisecs"));
    c.add(
        new Case(
            "ksm sleep zero (simulated time)",
            "SetKsmControl",
            SetKsmControlRequest.newBuilder().setSleepMillisecs(0).build(),
            bad,
            "sleep_millisecs"));
    c.add(
        new Case(
            "ksm zero passes",
            "RunKsmPasses",
            RunKsmPassesRequest.newBuilder().setPasses(0).build(),
            bad,
            "passes"));
    c.add(
        new Case(
            "ksm 101 passes",
            "RunKsmPasses",
            RunKsmPassesRequest.newBuilder().setPasses(101).build(),
            bad,
            "passes"));
    c.add(
        new Case(
            "ksm batch of zero pages",
            "RunKsmBatch",
            RunKsmBatchRequest.newBuilder().setPages(0).build(),
            bad,
            "pages"));
    c.add(
        new Case(
            "ksm batch over UINT_MAX pages",
            "RunKsmBatch",
            RunKsmBatchRequest.newBuilder().setPages(1L << 32).build(),
            bad,
            "pages"));
    c.add(
        new Case(
            "ksm batch host out of range",
            "RunKsmBatch",
            RunKsmBatchRequest.newBuilder().setHostId(5000).setPages(1).build(),
            bad,
            "host_id"));
    // EventService
    c.add(
        new Case(
            "watch kind unspecified",
            "WatchEvents",
            WatchEventsRequest.newBuilder()
                .addKinds(EventKind.EVENT_KIND_FAULT)
                .addKinds(EventKind.EVENT_KIND_UNSPECIFIED)
                .build(),
            bad,
            "kinds[1]"));
    c.add(
        new Case(
            "watch kind unknown",
            "WatchEvents",
            WatchEventsRequest.newBuilder().addKindsValue(77).build(),
            bad,
            "kinds[0]"));
    c.add(
        new Case(
            "watch vm id too big",
            "WatchEvents",
            WatchEventsRequest.newBuilder().setVmId(1 << 20).build(),
            bad,
            "vm_id"));
    return c;
  }

  /**
   * Rows whose status depends on the simulation's state (host 1: 64-bit with 4096 frames, VM 1 on
   * it: 64-bit, 1 MiB, 1 vCPU; host 2: 32-bit; VM 2 on it: 32-bit, 1 MiB, 1 vCPU; no host 9, no VM
   * 99): unknown ids, taken ids, calls that do not fit the VM's MMU kind, limits. For statuses
   * other than INVALID_ARGUMENT {@code field} is a part of the description.
   */
  static List<Case> stateCases() {
    Status.Code bad = Status.Code.INVALID_ARGUMENT;
    Status.Code missing = Status.Code.NOT_FOUND;
    List<Case> c = new ArrayList<>();
    c.add(
        new Case("host taken", "CreateHost", host().build(), Status.Code.ALREADY_EXISTS, "host 1"));
    c.add(
        new Case(
            "host stats of unknown host",
            "GetHostStats",
            GetHostStatsRequest.newBuilder().setHostId(9).build(),
            missing,
            "host 9"));
    c.add(
        new Case(
            "delete unknown host",
            "DeleteHost",
            DeleteHostRequest.newBuilder().setHostId(9).build(),
            missing,
            "host 9"));
    c.add(
        new Case(
            "delete host with a vm",
            "DeleteHost",
            DeleteHostRequest.newBuilder().setHostId(1).build(),
            Status.Code.FAILED_PRECONDITION,
            "host 1 still has vms [1]"));
    c.add(new Case("vm taken", "CreateVm", vm().build(), Status.Code.ALREADY_EXISTS, "vm 1"));
    c.add(
        new Case(
            "vm on unknown host",
            "CreateVm",
            vm().setVmId(50).setHostId(9).build(),
            missing,
            "host 9"));
    c.add(
        new Case(
            "64-bit vm on 32-bit host",
            "CreateVm",
            vm().setVmId(50).setHostId(2).build(),
            bad,
            "mmu_kind"));
    c.add(
        new Case(
            "vm beyond the host's frames",
            "CreateVm",
            vm().setVmId(50).setMemorySizeBytes(16L << 20).build(),
            Status.Code.RESOURCE_EXHAUSTED,
            "host 1"));
    c.add(
        new Case(
            "get unknown vm",
            "GetVm",
            GetVmRequest.newBuilder().setVm(vmRef(99)).build(),
            missing,
            "vm 99"));
    c.add(
        new Case(
            "delete unknown vm",
            "DeleteVm",
            DeleteVmRequest.newBuilder().setVm(vmRef(99)).build(),
            missing,
            "vm 99"));
    c.add(
        new Case(
            "stats of unknown vm",
            "GetVmStats",
            GetVmStatsRequest.newBuilder().setVm(vmRef(99)).build(),
            missing,
            "vm 99"));
    c.add(
        new Case(
            "state of unknown vcpu",
            "SetVcpuState",
            SetVcpuStateRequest.newBuilder()
                .setVcpu(vcpu(1, 5))
                .setMsr(MsrBits.newBuilder().setIr(true).setDr(true))
                .build(),
            missing,
            "vm 1 vcpu 5"));
    c.add(
        new Case(
            "SLB entry on a 32-bit guest",
            "SetVcpuState",
            SetVcpuStateRequest.newBuilder()
                .setVcpu(vcpu(2, 0))
                .addSlbEntries(SlbEntry.newBuilder().setIndex(1).setRb(1L << 27 | 1))
                .build(),
            bad,
            "changes[0] slbmte"));
    c.add(
        new Case(
            "segment register on a 64-bit guest",
            "SetVcpuState",
            SetVcpuStateRequest.newBuilder()
                .setVcpu(vcpu(1, 0))
                .addSegmentRegisters(SegmentRegister.newBuilder().setIndex(1).setValue(5))
                .build(),
            bad,
            "changes[0] mtsrin"));
    // SetVcpuStateRequest.sdr1 (mtspr SDR1, per vCPU): 0 is refused by the gateway, the rest by
    // the guest MMU against the VM's MMU kind and memory (VM 1: 64-bit, VM 2: 32-bit, 1 MiB each)
    c.add(
        new Case(
            "sdr1 zero",
            "SetVcpuState",
            SetVcpuStateRequest.newBuilder().setVcpu(vcpu(1, 0)).setSdr1(0).build(),
            bad,
            "sdr1"));
    c.add(
        new Case(
            "sdr1 64-bit origin not aligned to the table size",
            "SetVcpuState",
            SetVcpuStateRequest.newBuilder().setVcpu(vcpu(1, 0)).setSdr1(0x00040001L).build(),
            bad,
            "changes[0] sdr1.HTABORG"));
    c.add(
        new Case(
            "sdr1 32-bit origin not aligned to the table size",
            "SetVcpuState",
            SetVcpuStateRequest.newBuilder().setVcpu(vcpu(2, 0)).setSdr1(0x00010001L).build(),
            bad,
            "changes[0] sdr1.HTABORG"));
    c.add(
        new Case(
            "sdr1 table beyond guest memory",
            "SetVcpuState",
            SetVcpuStateRequest.newBuilder()
                .setVcpu(vcpu(1, 0))
                .setSdr1(0x00100000L)
                .setMsr(MsrBits.newBuilder().setIr(true).setDr(true))
                .build(),
            bad,
            "changes[0] sdr1"));
    c.add(
        new Case(
            "sdr1 HTABSIZE 29",
            "SetVcpuState",
            SetVcpuStateRequest.newBuilder().setVcpu(vcpu(1, 0)).setSdr1(29).build(),
            bad,
            "changes[0] sdr1.HTABSIZE"));
    c.add(
        new Case(
            "sdr1 above 32 bits on a 32-bit guest",
            "SetVcpuState",
            SetVcpuStateRequest.newBuilder().setVcpu(vcpu(2, 0)).setSdr1(1L << 32).build(),
            bad,
            "changes[0] sdr1"));
    c.add(
        new Case(
            "memslot overlapping slot 0",
            "AddMemslot",
            AddMemslotRequest.newBuilder()
                .setVm(vmRef(1))
                .setMemslot(Memslot.newBuilder().setSlotId(3).setGuestFrameStart(10).setPages(4))
                .build(),
            bad,
            "memslot"));
    c.add(
        new Case(
            "memslot id taken",
            "AddMemslot",
            AddMemslotRequest.newBuilder()
                .setVm(vmRef(1))
                .setMemslot(Memslot.newBuilder().setSlotId(0).setGuestFrameStart(4096).setPages(4))
                .build(),
            bad,
            "memslot.slot_id"));
    c.add(
        new Case(
            "memslot on unknown vm",
            "AddMemslot",
            AddMemslotRequest.newBuilder()
                .setVm(vmRef(99))
                .setMemslot(Memslot.newBuilder().setSlotId(3).setGuestFrameStart(4096).setPages(4))
                .build(),
            missing,
            "vm 99"));
    c.add(
        new Case(
            "remove unknown memslot",
            "RemoveMemslot",
            RemoveMemslotRequest.newBuilder().setVm(vmRef(1)).setSlotId(7).build(),
            missing,
            "vm 1 memslot 7"));
    c.add(
        new Case(
            "load outside every memslot",
            "LoadMemory",
            LoadMemoryRequest.newBuilder()
                .setVm(vmRef(1))
                .setGuestFrameStart(250)
                .setFingerprints(
                    Fingerprints.newBuilder()
                        .addValues(1)
                        .addValues(2)
                        .addValues(3)
                        .addValues(4)
                        .addValues(5)
                        .addValues(6)
                        .addValues(7))
                .build(),
            bad,
            "guest_frame_start"));
    c.add(
        new Case(
            "load into unknown vm",
            "LoadMemory",
            LoadMemoryRequest.newBuilder()
                .setVm(vmRef(99))
                .setFingerprints(Fingerprints.newBuilder().addValues(1))
                .build(),
            missing,
            "vm 99"));
    c.add(
        new Case(
            "read past every memslot",
            "ReadMemory",
            ReadMemoryRequest.newBuilder()
                .setVm(vmRef(1))
                .setGuestFrameStart(250)
                .setPages(7)
                .build(),
            bad,
            "guest_frame_start"));
    c.add(
        new Case(
            "read unknown vm",
            "ReadMemory",
            ReadMemoryRequest.newBuilder().setVm(vmRef(99)).setPages(1).build(),
            missing,
            "vm 99"));
    c.add(
        new Case(
            "hpte pp 4",
            "InsertHpte",
            InsertHpteRequest.newBuilder().setVcpu(vcpu(2, 0)).setPp(4).build(),
            bad,
            "pp"));
    c.add(
        new Case(
            "hpte gfn beyond memory",
            "InsertHpte",
            InsertHpteRequest.newBuilder()
                .setVcpu(vcpu(2, 0))
                .setEffectiveAddr(0x10000000L)
                .setGuestFrame(1 << 20)
                .setPp(2)
                .build(),
            bad,
            "guest_frame"));
    c.add(
        new Case(
            "hpte ea beyond 32 bits on a 32-bit guest",
            "InsertHpte",
            InsertHpteRequest.newBuilder()
                .setVcpu(vcpu(2, 0))
                .setEffectiveAddr(1L << 40)
                .setPp(2)
                .build(),
            bad,
            "effective_addr"));
    c.add(
        new Case(
            "hpte of unknown vcpu",
            "InsertHpte",
            InsertHpteRequest.newBuilder().setVcpu(vcpu(2, 3)).setPp(2).build(),
            missing,
            "vm 2 vcpu 3"));
    c.add(
        new Case(
            "read R/C where no HPTE is",
            "ReadRc",
            ReadRcRequest.newBuilder().setVcpu(vcpu(2, 0)).setEffectiveAddr(0x10040000L).build(),
            missing,
            ""));
    c.add(
        new Case(
            "access beyond 32 bits on a 32-bit guest",
            "Access",
            AccessRequest.newBuilder()
                .setVcpu(vcpu(2, 0))
                .setKind(AccessKind.ACCESS_KIND_LOAD)
                .setEffectiveAddr(1L << 33)
                .build(),
            bad,
            "effective_addr"));
    c.add(
        new Case(
            "access on unknown vm",
            "Access",
            AccessRequest.newBuilder()
                .setVcpu(vcpu(99, 0))
                .setKind(AccessKind.ACCESS_KIND_LOAD)
                .build(),
            missing,
            "vm 99"));
    c.add(
        new Case(
            "batch beyond 32 bits on a 32-bit guest",
            "RunWorkload",
            RunWorkloadRequest.newBuilder().setVcpu(vcpu(2, 0)).addAccesses(load(1L << 35)).build(),
            bad,
            "accesses[0].effective_addr"));
    c.add(
        new Case(
            "batch on unknown vcpu",
            "RunWorkload",
            RunWorkloadRequest.newBuilder().setVcpu(vcpu(1, 4)).addAccesses(load(0)).build(),
            missing,
            "vm 1 vcpu 4"));
    c.add(
        new Case(
            "packed batch beyond 32 bits on a 32-bit guest",
            "RunWorkload",
            RunWorkloadRequest.newBuilder()
                .setVcpu(vcpu(2, 0))
                .setPacked(packed(new byte[] {1, 2}, 0x1000, 1L << 35))
                .build(),
            bad,
            "packed.effective_addrs[1]"));
    c.add(
        new Case(
            "packed batch on unknown vcpu",
            "RunWorkload",
            RunWorkloadRequest.newBuilder()
                .setVcpu(vcpu(1, 4))
                .setPacked(packed(new byte[] {1}, 0))
                .build(),
            missing,
            "vm 1 vcpu 4"));
    c.add(
        new Case(
            "packed batch on unknown vm",
            "RunWorkload",
            RunWorkloadRequest.newBuilder()
                .setVcpu(vcpu(99, 0))
                .setPacked(packed(new byte[] {1}, 0))
                .build(),
            missing,
            "vm 99"));
    c.add(
        new Case(
            "ksm control of unknown host",
            "SetKsmControl",
            SetKsmControlRequest.newBuilder().setHostId(9).setRun(KsmRun.KSM_RUN_MERGE).build(),
            missing,
            "host 9"));
    c.add(
        new Case(
            "ksm passes on unknown host",
            "RunKsmPasses",
            RunKsmPassesRequest.newBuilder().setHostId(9).setPasses(1).build(),
            missing,
            "host 9"));
    c.add(
        new Case(
            "ksm passes while run is 0",
            "RunKsmPasses",
            RunKsmPassesRequest.newBuilder().setHostId(2).setPasses(1).build(),
            Status.Code.FAILED_PRECONDITION,
            ""));
    c.add(
        new Case(
            "ksm batch on unknown host",
            "RunKsmBatch",
            RunKsmBatchRequest.newBuilder().setHostId(9).setPages(10).build(),
            missing,
            "host 9"));
    c.add(
        new Case(
            "ksm batch while run is 0",
            "RunKsmBatch",
            RunKsmBatchRequest.newBuilder().setHostId(2).setPages(10).build(),
            Status.Code.FAILED_PRECONDITION,
            "run"));
    c.add(
        new Case(
            "ksm counters of unknown host",
            "GetKsmCounters",
            GetKsmCountersRequest.newBuilder().setHostId(9).build(),
            missing,
            "host 9"));
    c.add(
        new Case(
            "locate unknown type",
            "LocateEntity",
            LocateEntityRequest.newBuilder().setEntityType("Foo").setEntityId("vm-1").build(),
            bad,
            "entity_type"));
    c.add(
        new Case(
            "locate malformed id",
            "LocateEntity",
            LocateEntityRequest.newBuilder().setEntityType("Vcpu").setEntityId("vm-x").build(),
            bad,
            "entity_id"));
    c.add(
        new Case(
            "locate unknown vm",
            "LocateEntity",
            LocateEntityRequest.newBuilder()
                .setEntityType("Vcpu")
                .setEntityId("vm-99/vcpu-0")
                .build(),
            missing,
            "vm 99"));
    return c;
  }
}
