package org.mmumesh.gateway;

import io.grpc.stub.StreamObserver;
import java.util.Objects;
import org.mmumesh.mesh.Simulation;
import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.CreateHostResponse;
import org.mmumesh.proto.v1.DeleteHostRequest;
import org.mmumesh.proto.v1.DeleteHostResponse;
import org.mmumesh.proto.v1.GetHostStatsRequest;
import org.mmumesh.proto.v1.GetHostStatsResponse;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.HostSummary;
import org.mmumesh.proto.v1.ListHostsRequest;
import org.mmumesh.proto.v1.ListHostsResponse;
import org.mmumesh.proto.v1.VmRef;

/** {@code mmumesh.v1.HostService} over a {@link Simulation}: validate, call, map back. */
public final class HostService extends HostServiceGrpc.HostServiceImplBase {
  private final Simulation sim;

  /** Serves {@code sim}. */
  public HostService(Simulation sim) {
    this.sim = Objects.requireNonNull(sim, "sim");
  }

  @Override
  public void createHost(CreateHostRequest request, StreamObserver<CreateHostResponse> out) {
    Unary.run(
        out,
        () -> {
          HostRequests.CreateHost h = HostRequests.createHost(request);
          return sim.createHost(h.hostId(), h.host32(), h.maxFrames()).thenApply(v -> h.hostId());
        },
        id -> CreateHostResponse.newBuilder().setHostId(id).build());
  }

  @Override
  public void deleteHost(DeleteHostRequest request, StreamObserver<DeleteHostResponse> out) {
    Unary.run(
        out,
        () -> sim.deleteHost(HostRequests.hostId("host_id", request.getHostId())),
        v -> DeleteHostResponse.getDefaultInstance());
  }

  @Override
  public void listHosts(ListHostsRequest request, StreamObserver<ListHostsResponse> out) {
    Unary.run(
        out,
        sim::listHosts,
        hosts -> {
          ListHostsResponse.Builder b = ListHostsResponse.newBuilder();
          for (Simulation.HostInfo h : hosts) {
            HostSummary.Builder s =
                HostSummary.newBuilder()
                    .setHostId(h.hostId())
                    .setHostMmu(HostRequests.kind(h.host32()))
                    .setMaxFrames(h.maxFrames());
            h.vms().forEach(vm -> s.addVms(VmRef.newBuilder().setVmId(vm)));
            b.addHosts(s);
          }
          return b.build();
        });
  }

  @Override
  public void getHostStats(GetHostStatsRequest request, StreamObserver<GetHostStatsResponse> out) {
    int[] host = new int[1];
    Unary.run(
        out,
        () -> {
          host[0] = HostRequests.hostId("host_id", request.getHostId());
          return sim.hostStats(host[0]);
        },
        c ->
            GetHostStatsResponse.newBuilder()
                .setHostId(host[0])
                .addAllCounters(Counters.of(c))
                .build());
  }
}
