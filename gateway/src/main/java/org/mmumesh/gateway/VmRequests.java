package org.mmumesh.gateway;

import java.util.ArrayList;
import java.util.List;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.mesh.Simulation;
import org.mmumesh.proto.v1.AddMemslotRequest;
import org.mmumesh.proto.v1.Bat;
import org.mmumesh.proto.v1.CreateVmRequest;
import org.mmumesh.proto.v1.InsertHpteRequest;
import org.mmumesh.proto.v1.LoadMemoryRequest;
import org.mmumesh.proto.v1.Memslot;
import org.mmumesh.proto.v1.ReadMemoryRequest;
import org.mmumesh.proto.v1.SegmentRegister;
import org.mmumesh.proto.v1.SetVcpuStateRequest;
import org.mmumesh.proto.v1.SlbEntry;
import org.mmumesh.proto.v1.VcpuRef;
import org.mmumesh.proto.v1.VmRef;

/**
 * Validated VmService requests: the static ranges of the API. What depends on a VM (its MMU kind,
 * memory size, vCPU count, memslots) is checked by the simulation against that VM, also before
 * anything changes.
 */
public final class VmRequests {
  private VmRequests() {}

  /**
   * New vCPU state as the guest's own instructions would make it: {@code mtspr SDR1} first (so a
   * refusal of it is always {@code changes[0]}), then {@code mtsrin}s, {@code slbmte}s, BAT writes,
   * then the MSR bits (empty: nothing to change).
   */
  public record VcpuState(int vmId, int vcpu, List<Simulation.StateChange> changes) {}

  /** An H_ENTER: {@code ea -> gfn} with PP bits {@code pp}, hashed through vCPU {@code vcpu}. */
  public record InsertHpte(int vmId, int vcpu, long ea, long gfn, int pp) {}

  /** The guest HPTE translating {@code ea} for vCPU {@code vcpu}. */
  public record HpteAt(int vmId, int vcpu, long ea) {}

  /** A memslot to add. */
  public record AddSlot(
      int vmId, int slotId, long gfnStart, long pages, long hostPageStart, boolean readOnly) {}

  /** Memory to load: one fingerprint per page from {@code gfnStart}. */
  public record Load(int vmId, long gfnStart, long[] fingerprints) {}

  /** A range to read. */
  public record Read(int vmId, long gfnStart, int pages) {}

  /** Validates {@code r}. */
  public static Simulation.VmConfig createVm(CreateVmRequest r) {
    int vm = vmId("vm_id", r.getVmId());
    int host = HostRequests.hostId("host_id", r.getHostId());
    boolean is64 = ProtoMapping.is64("mmu_kind", r.getMmuKindValue());
    long max = is64 ? Limits.MAX_MEMORY_BYTES_64 : Limits.MAX_MEMORY_BYTES_32;
    long bytes =
        Fields.uint64("memory_size_bytes", r.getMemorySizeBytes(), Limits.MIN_MEMORY_BYTES, max);
    Fields.multipleOf("memory_size_bytes", bytes, 4096);
    int vcpus = Fields.uint32("vcpu_count", r.getVcpuCount(), 1, Limits.MAX_VCPUS);
    MmuOptions options = ProtoMapping.options("options", r.hasOptions(), r.getOptions());
    int tlb = Fields.uint32("tlb_entries", r.getTlbEntries(), 0, Limits.MAX_TLB_ENTRIES);
    if (tlb != 0 && Integer.bitCount(tlb) != 1) {
      throw GatewayException.badField(
          "tlb_entries", tlb + " is not a power of two (1 .. 65536, or 0)");
    }
    return new Simulation.VmConfig(
        vm,
        host,
        is64,
        bytes >>> 12,
        vcpus,
        options,
        tlb == 0 ? Limits.DEFAULT_TLB_ENTRIES : tlb,
        r.getKsmMergeable());
  }

  /**
   * Validates {@code r}; which parts fit the VM's MMU kind is checked against the VM, and so are
   * the SDR1 rules that need the MMU kind and the memory size (alignment, HTABMASK / HTABSIZE,
   * reserved bits, the table inside guest memory). Here: an sdr1 of 0 is refused as the kernel's
   * {@code mtspr SDR1} emulation refuses it.
   */
  public static VcpuState vcpuState(SetVcpuStateRequest r) {
    int[] ids = vcpu("vcpu", r.hasVcpu(), r.getVcpu());
    long count =
        (long) r.getSegmentRegistersCount()
            + r.getSlbEntriesCount()
            + r.getBatsCount()
            + (r.hasMsr() ? 1 : 0)
            + (r.hasSdr1() ? 1 : 0);
    if (count > Limits.MAX_STATE_CHANGES) {
      throw GatewayException.badField(
          "segment_registers + slb_entries + bats + msr + sdr1",
          count
              + " changes in one request; allowed at most "
              + Limits.MAX_STATE_CHANGES
              + " (split larger updates into several requests)");
    }
    List<Simulation.StateChange> changes = new ArrayList<>();
    if (r.hasSdr1()) {
      if (r.getSdr1() == 0) {
        throw GatewayException.badField(
            "sdr1",
            "0 is refused (mtspr SDR1 of 0 is -EINVAL); allowed: a non-zero SDR1 whose table is"
                + " aligned to its size and lies in guest memory (32-bit: HTABORG | HTABMASK, 64 KiB"
                + " x (HTABMASK+1); 64-bit: HTABORG | HTABSIZE 0 .. 28, 2^(HTABSIZE+18) bytes)");
      }
      changes.add(new Simulation.StateChange.SetSdr1(r.getSdr1()));
    }
    for (int i = 0; i < r.getSegmentRegistersCount(); i++) {
      SegmentRegister s = r.getSegmentRegisters(i);
      int index =
          Fields.uint32("segment_registers[" + i + "].index", s.getIndex(), 0, Limits.MAX_SR_INDEX);
      changes.add(new Simulation.StateChange.Mtsrin(index, Integer.toUnsignedLong(s.getValue())));
    }
    for (int i = 0; i < r.getSlbEntriesCount(); i++) {
      SlbEntry e = r.getSlbEntries(i);
      int index =
          Fields.uint32("slb_entries[" + i + "].index", e.getIndex(), 0, Limits.MAX_SLB_INDEX);
      long low = e.getRb() & 0xFFF;
      if (low != 0 && low != index) {
        throw GatewayException.badField(
            "slb_entries[" + i + "].rb",
            "its index bits (rb & 0xfff) are "
                + low
                + " but index is "
                + index
                + "; allowed: 0 or equal to index");
      }
      changes.add(new Simulation.StateChange.Slbmte(e.getRs(), (e.getRb() & ~0xFFFL) | index));
    }
    if (r.getSegmentRegistersCount() > 0 && r.getSlbEntriesCount() > 0) {
      throw GatewayException.badField(
          "slb_entries", "cannot be set together with segment_registers (one MMU kind per VM)");
    }
    for (int i = 0; i < r.getBatsCount(); i++) {
      Bat b = r.getBats(i);
      int index = Fields.uint32("bats[" + i + "].index", b.getIndex(), 0, Limits.MAX_BAT_INDEX);
      changes.add(
          new Simulation.StateChange.SetBat(
              b.getInstruction(),
              index,
              Integer.toUnsignedLong(b.getUpper()),
              Integer.toUnsignedLong(b.getLower())));
    }
    if (r.hasMsr()) {
      changes.add(
          new Simulation.StateChange.SetMsr(
              r.getMsr().getPr(), r.getMsr().getIr(), r.getMsr().getDr()));
    }
    return new VcpuState(ids[0], ids[1], List.copyOf(changes));
  }

  /** Validates {@code r}. */
  public static InsertHpte insertHpte(InsertHpteRequest r) {
    int[] v = vcpu("vcpu", r.hasVcpu(), r.getVcpu());
    long gfn =
        Fields.uint64("guest_frame", r.getGuestFrame(), 0, (Limits.MAX_MEMORY_BYTES_64 >>> 12) - 1);
    int pp = Fields.uint32("pp", r.getPp(), 0, 3);
    return new InsertHpte(v[0], v[1], r.getEffectiveAddr(), gfn, pp);
  }

  /** Validates a request naming a guest HPTE by vCPU and effective address. */
  public static HpteAt hpteAt(boolean hasVcpu, VcpuRef vcpu, long ea) {
    int[] v = vcpu("vcpu", hasVcpu, vcpu);
    return new HpteAt(v[0], v[1], ea);
  }

  /** Validates {@code r}. */
  public static AddSlot addSlot(AddMemslotRequest r) {
    int vm = vm("vm", r.hasVm(), r.getVm());
    Memslot m = Fields.present("memslot", r.hasMemslot(), r.getMemslot());
    int slot = Fields.uint32("memslot.slot_id", m.getSlotId(), 0, Limits.MAX_SLOT_ID);
    long pages = Fields.uint64("memslot.pages", m.getPages(), 1, Limits.MAX_MEMORY_BYTES_64 >>> 12);
    long gfn =
        Fields.uint64(
            "memslot.guest_frame_start",
            m.getGuestFrameStart(),
            0,
            (Limits.MAX_MEMORY_BYTES_64 >>> 12) - pages);
    long hostPage =
        Fields.uint64("memslot.host_page_start", m.getHostPageStart(), 0, (1L << 40) - pages);
    return new AddSlot(vm, slot, gfn, pages, hostPage, m.getReadOnly());
  }

  /** Validates {@code r}: image bytes are hashed per page into fingerprints. */
  public static Load load(LoadMemoryRequest r) {
    int vm = vm("vm", r.hasVm(), r.getVm());
    long gfn =
        Fields.uint64(
            "guest_frame_start",
            r.getGuestFrameStart(),
            0,
            (Limits.MAX_MEMORY_BYTES_64 >>> 12) - 1);
    long[] fps =
        switch (r.getContentCase()) {
          case IMAGE -> {
            int n = r.getImage().size();
            if (n == 0 || n % 4096 != 0 || n > Limits.MAX_LOAD_PAGES * 4096) {
              throw GatewayException.badField(
                  "image",
                  n
                      + " bytes: must be a non-zero multiple of 4096, at most "
                      + Limits.MAX_LOAD_PAGES * 4096);
            }
            byte[] bytes = r.getImage().toByteArray();
            long[] out = new long[n / 4096];
            for (int p = 0; p < out.length; p++) {
              out[p] = org.mmumesh.common.Fingerprint.ofBytes(bytes, p * 4096, 4096);
            }
            yield out;
          }
          case FINGERPRINTS -> {
            int n =
                Fields.count(
                    "fingerprints.values",
                    r.getFingerprints().getValuesCount(),
                    1,
                    Limits.MAX_LOAD_PAGES);
            long[] out = new long[n];
            for (int i = 0; i < n; i++) {
              out[i] = r.getFingerprints().getValues(i);
            }
            yield out;
          }
          default ->
              throw GatewayException.badField("content", "is required: image or fingerprints");
        };
    return new Load(vm, gfn, fps);
  }

  /** Validates {@code r}. */
  public static Read read(ReadMemoryRequest r) {
    int vm = vm("vm", r.hasVm(), r.getVm());
    int pages = Fields.uint32("pages", r.getPages(), 1, Limits.MAX_READ_PAGES);
    long gfn =
        Fields.uint64(
            "guest_frame_start",
            r.getGuestFrameStart(),
            0,
            (Limits.MAX_MEMORY_BYTES_64 >>> 12) - pages);
    return new Read(vm, gfn, pages);
  }

  /** A VM id field. */
  public static int vmId(String field, int value) {
    return Fields.uint32(field, value, 0, Limits.MAX_VM_ID);
  }

  /** A required VmRef. */
  public static int vm(String field, boolean has, VmRef ref) {
    return vmId(field + ".vm_id", Fields.present(field, has, ref).getVmId());
  }

  /** A required VcpuRef: {vm, vcpu}. */
  public static int[] vcpu(String field, boolean has, VcpuRef ref) {
    VcpuRef r = Fields.present(field, has, ref);
    return new int[] {
      vmId(field + ".vm_id", r.getVmId()),
      Fields.uint32(field + ".vcpu_index", r.getVcpuIndex(), 0, Limits.MAX_VCPUS - 1L)
    };
  }
}
