package org.mmumesh.gateway;

import io.grpc.stub.StreamObserver;
import java.util.Objects;
import org.mmumesh.mesh.Simulation;
import org.mmumesh.proto.v1.GetKsmCountersRequest;
import org.mmumesh.proto.v1.GetKsmCountersResponse;
import org.mmumesh.proto.v1.KsmServiceGrpc;
import org.mmumesh.proto.v1.RunKsmBatchRequest;
import org.mmumesh.proto.v1.RunKsmBatchResponse;
import org.mmumesh.proto.v1.RunKsmPassesRequest;
import org.mmumesh.proto.v1.RunKsmPassesResponse;
import org.mmumesh.proto.v1.SetKsmControlRequest;
import org.mmumesh.proto.v1.SetKsmControlResponse;

/** {@code mmumesh.v1.KsmService} over a {@link Simulation}: validate, call, map back. */
public final class KsmService extends KsmServiceGrpc.KsmServiceImplBase {
  private final Simulation sim;

  /** Serves {@code sim}. */
  public KsmService(Simulation sim) {
    this.sim = Objects.requireNonNull(sim, "sim");
  }

  @Override
  public void setKsmControl(
      SetKsmControlRequest request, StreamObserver<SetKsmControlResponse> out) {
    Unary.run(
        out,
        () -> {
          KsmRequests.Control c = KsmRequests.control(request);
          return sim.ksmControl(c.hostId(), c.run(), c.pagesToScan(), c.sleepMillisecs());
        },
        k ->
            SetKsmControlResponse.newBuilder()
                .setRun(KsmRequests.run(k.run()))
                .setPagesToScan(k.pagesToScan())
                .setSleepMillisecs(k.sleepMillisecs())
                .build());
  }

  @Override
  public void runKsmPasses(RunKsmPassesRequest request, StreamObserver<RunKsmPassesResponse> out) {
    Unary.run(
        out,
        () -> {
          KsmRequests.Passes p = KsmRequests.passes(request);
          return sim.ksmPasses(p.hostId(), p.passes());
        },
        c -> RunKsmPassesResponse.newBuilder().addAllCounters(Counters.of(c)).build());
  }

  @Override
  public void runKsmBatch(RunKsmBatchRequest request, StreamObserver<RunKsmBatchResponse> out) {
    Unary.run(
        out,
        () -> {
          KsmRequests.Batch b = KsmRequests.batch(request);
          return sim.ksmBatch(b.hostId(), b.pages());
        },
        c -> RunKsmBatchResponse.newBuilder().addAllCounters(Counters.of(c)).build());
  }

  @Override
  public void getKsmCounters(
      GetKsmCountersRequest request, StreamObserver<GetKsmCountersResponse> out) {
    Unary.run(
        out,
        () -> sim.ksmCounters(HostRequests.hostId("host_id", request.getHostId())),
        c -> GetKsmCountersResponse.newBuilder().addAllCounters(Counters.of(c)).build());
  }
}
