package org.mmumesh.gateway;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * One gateway per cluster drives workloads (README "Known deviations and limits": each gateway's
 * facade numbers the batches it sends to a vCPU and keeps the memslot tables it changed). With
 * several gateway nodes, the oldest Up member with the gateway role drives; on every other gateway
 * this interceptor refuses the calls that drive or change a VM's memslots with {@code
 * FAILED_PRECONDITION} naming the driving gateway's node, while hosts, KSM, VM reads, the cluster
 * and events stay served everywhere (the directory is replicated to every node).
 */
final class DrivingGateway implements ServerInterceptor {
  /** The calls only the driving gateway serves. */
  static final Set<String> DRIVING =
      Set.of(
          "mmumesh.v1.AccessService/Access",
          "mmumesh.v1.AccessService/RunWorkload",
          "mmumesh.v1.VmService/CreateVm",
          "mmumesh.v1.VmService/DeleteVm",
          "mmumesh.v1.VmService/SetVcpuState",
          "mmumesh.v1.VmService/AddMemslot",
          "mmumesh.v1.VmService/RemoveMemslot",
          "mmumesh.v1.VmService/LoadMemory",
          "mmumesh.v1.VmService/ReadMemory");

  private final Supplier<Optional<String>> otherDriver;

  /** {@code otherDriver}: the driving gateway's node when it is not this one, else empty. */
  DrivingGateway(Supplier<Optional<String>> otherDriver) {
    this.otherDriver = Objects.requireNonNull(otherDriver, "otherDriver");
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    if (DRIVING.contains(method)) {
      Optional<String> driver = otherDriver.get();
      if (driver.isPresent()) {
        call.close(
            Status.FAILED_PRECONDITION.withDescription(
                method
                    + ": this gateway does not drive workloads; the gateway on node "
                    + driver.get()
                    + " (the oldest gateway node of the cluster) does: send workload and memslot"
                    + " calls there"),
            new Metadata());
        return new ServerCall.Listener<>() {};
      }
    }
    return next.startCall(call, headers);
  }
}
