package org.mmumesh.gateway;

import io.grpc.stub.StreamObserver;
import java.util.Objects;
import java.util.TreeSet;
import org.mmumesh.mesh.Simulation;
import org.mmumesh.proto.v1.CheckInvariantsRequest;
import org.mmumesh.proto.v1.CheckInvariantsResponse;
import org.mmumesh.proto.v1.ClusterServiceGrpc;
import org.mmumesh.proto.v1.GetMembersRequest;
import org.mmumesh.proto.v1.GetMembersResponse;
import org.mmumesh.proto.v1.LocateEntityRequest;
import org.mmumesh.proto.v1.LocateEntityResponse;
import org.mmumesh.proto.v1.Member;

/** {@code mmumesh.v1.ClusterService} over a {@link Simulation}: validate, call, map back. */
public final class ClusterService extends ClusterServiceGrpc.ClusterServiceImplBase {
  /** Longest entity type or id accepted, characters. */
  static final int MAX_NAME = 64;

  private final Simulation sim;

  /** Serves {@code sim}. */
  public ClusterService(Simulation sim) {
    this.sim = Objects.requireNonNull(sim, "sim");
  }

  @Override
  public void getMembers(GetMembersRequest request, StreamObserver<GetMembersResponse> out) {
    Unary.run(
        out,
        sim::members,
        m -> {
          GetMembersResponse.Builder b =
              GetMembersResponse.newBuilder().setSelfAddress(m.selfAddress());
          for (Simulation.Member x : m.members()) {
            b.addMembers(
                Member.newBuilder()
                    .setAddress(x.address())
                    .addAllRoles(new TreeSet<>(x.roles()))
                    .setStatus(x.status()));
          }
          return b.build();
        });
  }

  @Override
  public void locateEntity(LocateEntityRequest request, StreamObserver<LocateEntityResponse> out) {
    Unary.run(
        out,
        () -> {
          String type = request.getEntityType();
          String id = request.getEntityId();
          if (type.isEmpty() || type.length() > MAX_NAME) {
            throw GatewayException.badField(
                "entity_type",
                "'" + type + "' is not allowed; use PageFrame, Ksm, GuestMmu, HostMmu or Vcpu");
          }
          if (id.isEmpty() || id.length() > MAX_NAME) {
            throw GatewayException.badField(
                "entity_id", "must be 1 .. " + MAX_NAME + " characters, e.g. vm-3/vcpu-1");
          }
          return sim.locate(type, id);
        },
        l ->
            LocateEntityResponse.newBuilder()
                .setNodeAddress(l.nodeAddress())
                .setShardId(l.shardId())
                .build());
  }

  @Override
  public void checkInvariants(
      CheckInvariantsRequest request, StreamObserver<CheckInvariantsResponse> out) {
    Unary.run(
        out,
        sim::checkInvariants,
        r ->
            CheckInvariantsResponse.newBuilder()
                .addAllViolations(r.violations())
                .setHostsChecked(r.hosts())
                .setVmsChecked(r.vms())
                .build());
  }
}
