package org.mmumesh.gateway;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Objects;

/**
 * Per-RPC metrics for every gateway call: {@code grpc_server_calls_total{method, status}} and the
 * latency timer {@code grpc_server_call_seconds{method}} (with a histogram, so Prometheus can give
 * p50/p99), measured from the call's start to its close.
 */
public final class GrpcMetrics implements ServerInterceptor {
  private final MeterRegistry registry;

  /** Metrics into {@code registry}. */
  public GrpcMetrics(MeterRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    Timer.Sample sample = Timer.start(registry);
    ServerCall<Q, R> counted =
        new SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            sample.stop(
                Timer.builder("grpc.server.call")
                    .description("gRPC call latency, start to close")
                    .tag("method", method)
                    .publishPercentileHistogram()
                    .register(registry));
            Counter.builder("grpc.server.calls")
                .description("gRPC calls by method and status")
                .tag("method", method)
                .tag("status", status.getCode().name())
                .register(registry)
                .increment();
            super.close(status, trailers);
          }
        };
    return next.startCall(counted, headers);
  }
}
