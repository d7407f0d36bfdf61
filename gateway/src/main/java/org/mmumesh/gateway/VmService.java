package org.mmumesh.gateway;

import io.grpc.stub.StreamObserver;
import java.util.Objects;
import org.mmumesh.mesh.FootprintEstimator;
import org.mmumesh.mesh.MemoryBudget;
import org.mmumesh.mesh.Simulation;
import org.mmumesh.proto.v1.AddMemslotRequest;
import org.mmumesh.proto.v1.AddMemslotResponse;
import org.mmumesh.proto.v1.ClearRcRequest;
import org.mmumesh.proto.v1.ClearRcResponse;
import org.mmumesh.proto.v1.CreateVmRequest;
import org.mmumesh.proto.v1.CreateVmResponse;
import org.mmumesh.proto.v1.DeleteVmRequest;
import org.mmumesh.proto.v1.DeleteVmResponse;
import org.mmumesh.proto.v1.GetVmRequest;
import org.mmumesh.proto.v1.GetVmResponse;
import org.mmumesh.proto.v1.GetVmStatsRequest;
import org.mmumesh.proto.v1.GetVmStatsResponse;
import org.mmumesh.proto.v1.InsertHpteRequest;
import org.mmumesh.proto.v1.InsertHpteResponse;
import org.mmumesh.proto.v1.LoadMemoryRequest;
import org.mmumesh.proto.v1.LoadMemoryResponse;
import org.mmumesh.proto.v1.Memslot;
import org.mmumesh.proto.v1.MmuKind;
import org.mmumesh.proto.v1.ReadMemoryRequest;
import org.mmumesh.proto.v1.ReadMemoryResponse;
import org.mmumesh.proto.v1.ReadRcRequest;
import org.mmumesh.proto.v1.ReadRcResponse;
import org.mmumesh.proto.v1.RemoveHpteRequest;
import org.mmumesh.proto.v1.RemoveHpteResponse;
import org.mmumesh.proto.v1.RemoveMemslotRequest;
import org.mmumesh.proto.v1.RemoveMemslotResponse;
import org.mmumesh.proto.v1.SetVcpuStateRequest;
import org.mmumesh.proto.v1.SetVcpuStateResponse;
import org.mmumesh.proto.v1.VmRef;
import org.mmumesh.proto.v1.VmServiceGrpc;

/** {@code mmumesh.v1.VmService} over a {@link Simulation}: validate, call, map back. */
public final class VmService extends VmServiceGrpc.VmServiceImplBase {
  private final Simulation sim;
  private final VcpuStreams streams;

  /** Serves {@code sim}; {@code streams} are the workload streams of the same gateway. */
  public VmService(Simulation sim, VcpuStreams streams) {
    this.sim = Objects.requireNonNull(sim, "sim");
    this.streams = Objects.requireNonNull(streams, "streams");
  }

  @Override
  public void createVm(CreateVmRequest request, StreamObserver<CreateVmResponse> out) {
    Unary.run(
        out,
        () -> sim.createVm(VmRequests.createVm(request)),
        info ->
            CreateVmResponse.newBuilder()
                .setVm(ref(info.config().vmId()))
                .setHtabGuestRealAddr(info.htabGuestRealAddr())
                .setHtabSizeBytes(info.htabSizeBytes())
                .build());
  }

  @Override
  public void deleteVm(DeleteVmRequest request, StreamObserver<DeleteVmResponse> out) {
    Unary.run(
        out,
        () -> {
          int vm = VmRequests.vm("vm", request.hasVm(), request.getVm());
          streams.checkVmFree(vm);
          return sim.deleteVm(vm);
        },
        v -> DeleteVmResponse.getDefaultInstance());
  }

  @Override
  public void getVm(GetVmRequest request, StreamObserver<GetVmResponse> out) {
    Unary.run(
        out,
        () -> sim.getVm(VmRequests.vm("vm", request.hasVm(), request.getVm())),
        VmService::describe);
  }

  static GetVmResponse describe(Simulation.VmInfo info) {
    Simulation.VmConfig c = info.config();
    GetVmResponse.Builder b =
        GetVmResponse.newBuilder()
            .setVm(ref(c.vmId()))
            .setHostId(c.hostId())
            .setMmuKind(c.is64() ? MmuKind.MMU_KIND_BOOK3S_64 : MmuKind.MMU_KIND_BOOK3S_32)
            .setMemorySizeBytes(c.memoryPages() << 12)
            .setVcpuCount(c.vcpus())
            .setOptions(ProtoMapping.toProto(c.options()))
            .setHtabGuestRealAddr(info.htabGuestRealAddr())
            .setHtabSizeBytes(info.htabSizeBytes());
    for (Simulation.Slot s : info.memslots()) {
      b.addMemslots(
          Memslot.newBuilder()
              .setSlotId(s.slotId())
              .setGuestFrameStart(s.gfnStart())
              .setPages(s.pages())
              .setHostPageStart(s.hostPageStart())
              .setReadOnly(s.readOnly())
              .setGeneration(s.generation()));
    }
    return b.build();
  }

  @Override
  public void setVcpuState(SetVcpuStateRequest request, StreamObserver<SetVcpuStateResponse> out) {
    Unary.run(
        out,
        () -> {
          VmRequests.VcpuState s = VmRequests.vcpuState(request);
          return sim.setVcpuState(s.vmId(), s.vcpu(), s.changes());
        },
        v -> SetVcpuStateResponse.getDefaultInstance());
  }

  @Override
  public void addMemslot(AddMemslotRequest request, StreamObserver<AddMemslotResponse> out) {
    Unary.run(
        out,
        () -> {
          VmRequests.AddSlot s = VmRequests.addSlot(request);
          return sim.addSlot(
              s.vmId(),
              new Simulation.Slot(
                  s.slotId(), s.gfnStart(), s.pages(), s.hostPageStart(), s.readOnly(), 0));
        },
        g -> AddMemslotResponse.newBuilder().setGeneration(g).build());
  }

  @Override
  public void removeMemslot(
      RemoveMemslotRequest request, StreamObserver<RemoveMemslotResponse> out) {
    Unary.run(
        out,
        () ->
            sim.removeSlot(
                VmRequests.vm("vm", request.hasVm(), request.getVm()),
                Fields.uint32("slot_id", request.getSlotId(), 0, Limits.MAX_SLOT_ID)),
        g -> RemoveMemslotResponse.newBuilder().setGeneration(g).build());
  }

  /**
   * Reserves what the call holds while it runs (the image's copy, the fingerprints, the in-flight
   * asks: {@link FootprintEstimator#load}) before anything is copied; the simulation charges pages
   * beyond the VM's memory size on top.
   */
  @Override
  public void loadMemory(LoadMemoryRequest request, StreamObserver<LoadMemoryResponse> out) {
    Unary.run(
        out,
        () -> {
          long pages =
              Math.min(
                  Limits.MAX_LOAD_PAGES,
                  Math.max(
                      request.getImage().size() / 4096,
                      request.getFingerprints().getValuesCount()));
          MemoryBudget.Reservation held =
              sim.memoryBudget()
                  .reserve("LoadMemory", "its " + pages + " pages", FootprintEstimator.load(pages));
          try {
            VmRequests.Load l = VmRequests.load(request);
            return sim.loadMemory(l.vmId(), l.gfnStart(), l.fingerprints())
                .whenComplete((n, err) -> held.close());
          } catch (RuntimeException e) {
            held.close();
            throw e;
          }
        },
        n -> LoadMemoryResponse.newBuilder().setPagesLoaded(n).build());
  }

  @Override
  public void readMemory(ReadMemoryRequest request, StreamObserver<ReadMemoryResponse> out) {
    Unary.run(
        out,
        () -> {
          VmRequests.Read r = VmRequests.read(request);
          return sim.readMemory(r.vmId(), r.gfnStart(), r.pages());
        },
        fps -> {
          ReadMemoryResponse.Builder b = ReadMemoryResponse.newBuilder();
          for (long f : fps) {
            b.addFingerprints(f);
          }
          return b.build();
        });
  }

  @Override
  public void insertHpte(InsertHpteRequest request, StreamObserver<InsertHpteResponse> out) {
    Unary.run(
        out,
        () -> {
          VmRequests.InsertHpte h = VmRequests.insertHpte(request);
          return sim.insertHpte(h.vmId(), h.vcpu(), h.ea(), h.gfn(), h.pp());
        },
        addr -> InsertHpteResponse.newBuilder().setHpteGuestRealAddr(addr).build());
  }

  @Override
  public void removeHpte(RemoveHpteRequest request, StreamObserver<RemoveHpteResponse> out) {
    Unary.run(
        out,
        () -> {
          VmRequests.HpteAt h =
              VmRequests.hpteAt(request.hasVcpu(), request.getVcpu(), request.getEffectiveAddr());
          return sim.removeHpte(h.vmId(), h.vcpu(), h.ea());
        },
        v -> RemoveHpteResponse.getDefaultInstance());
  }

  @Override
  public void readRc(ReadRcRequest request, StreamObserver<ReadRcResponse> out) {
    Unary.run(
        out,
        () -> {
          VmRequests.HpteAt h =
              VmRequests.hpteAt(request.hasVcpu(), request.getVcpu(), request.getEffectiveAddr());
          return sim.readRc(h.vmId(), h.vcpu(), h.ea());
        },
        rc ->
            ReadRcResponse.newBuilder()
                .setReferenced(rc.referenced())
                .setChanged(rc.changed())
                .build());
  }

  @Override
  public void clearRc(ClearRcRequest request, StreamObserver<ClearRcResponse> out) {
    Unary.run(
        out,
        () -> {
          VmRequests.HpteAt h =
              VmRequests.hpteAt(request.hasVcpu(), request.getVcpu(), request.getEffectiveAddr());
          return sim.clearRc(
              h.vmId(), h.vcpu(), h.ea(), request.getClearReferenced(), request.getClearChanged());
        },
        rc ->
            ClearRcResponse.newBuilder()
                .setReferenced(rc.referenced())
                .setChanged(rc.changed())
                .build());
  }

  @Override
  public void getVmStats(GetVmStatsRequest request, StreamObserver<GetVmStatsResponse> out) {
    int[] vm = new int[1];
    Unary.run(
        out,
        () -> {
          vm[0] = VmRequests.vm("vm", request.hasVm(), request.getVm());
          return sim.vmStats(vm[0]);
        },
        s ->
            GetVmStatsResponse.newBuilder()
                .setVm(ref(vm[0]))
                .setPolicy(ProtoMapping.toProto(s.options().policy()))
                .addAllCounters(Counters.of(s.counters()))
                .setSimulatedNanos(s.simulatedNanos())
                .build());
  }

  private static VmRef ref(int vm) {
    return VmRef.newBuilder().setVmId(vm).build();
  }
}
