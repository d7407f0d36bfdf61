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
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-RPC metrics for every gateway call: {@code grpc_server_calls_total{method, status}} and the
 * latency timer {@code grpc_server_call_seconds{method}} (with a histogram, so Prometheus can give
 * p50/p99), measured from the call's start to its close.
 */
public final class GrpcMetrics implements ServerInterceptor {
  private final MeterRegistry registry;
  // registered once per method (and status): a registry lookup per call cost more than an echo
  private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter[]> counters = new ConcurrentHashMap<>();

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
            sample.stop(timers.computeIfAbsent(method, GrpcMetrics.this::timer));
            Counter[] byCode =
                counters.computeIfAbsent(method, m -> new Counter[Status.Code.values().length]);
            int code = status.getCode().ordinal();
            Counter c = byCode[code];
            if (c == null) {
              c = counter(method, status.getCode());
              byCode[code] = c; // a racing duplicate registers the same meter: harmless
            }
            c.increment();
            super.close(status, trailers);
          }
        };
    return next.startCall(counted, headers);
  }

  private Timer timer(String method) {
    return Timer.builder("grpc.server.call")
        .description("gRPC call latency, start to close")
        .tag("method", method)
        .publishPercentileHistogram()
        .register(registry);
  }

  private Counter counter(String method, Status.Code code) {
    return Counter.builder("grpc.server.calls")
        .description("gRPC calls by method and status")
        .tag("method", method)
        .tag("status", code.name())
        .register(registry);
  }
}
