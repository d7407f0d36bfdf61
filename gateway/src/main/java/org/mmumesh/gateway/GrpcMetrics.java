package org.mmumesh.gateway;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-RPC metrics for every gateway call: {@code grpc_server_calls_total{method, status}}, and the
 * time from the call's start to its close in one of two timers (each with a Prometheus histogram,
 * so Prometheus can give p50/p99):
 *
 * <ul>
 *   <li>{@code grpc_server_call_seconds{method}} for unary calls, with buckets from {@value
 *       #UNARY_MIN_MICROS} us (most {@code Access} and {@code Echo} calls take well under a
 *       millisecond) to {@value #UNARY_MAX_SECONDS} s, plus exact buckets at 10, 25, 50, 100, 250
 *       and 500 us and 1, 2.5, 5, 10 ms;
 *   <li>{@code grpc_server_stream_seconds{method}} for streaming calls ({@code RunWorkload}, {@code
 *       WatchEvents}), which last seconds to hours and would only flatten the unary histogram: from
 *       1 ms to {@value #STREAM_MAX_HOURS} h.
 * </ul>
 */
public final class GrpcMetrics implements ServerInterceptor {
  /** The smallest latency the unary histogram resolves, microseconds. */
  public static final int UNARY_MIN_MICROS = 10;

  /** The largest bucket of the unary histogram, seconds. */
  public static final int UNARY_MAX_SECONDS = 60;

  /** The largest bucket of the stream histogram, hours. */
  public static final int STREAM_MAX_HOURS = 24;

  private static final Duration[] UNARY_SLOS = {
    Duration.ofNanos(10_000),
    Duration.ofNanos(25_000),
    Duration.ofNanos(50_000),
    Duration.ofNanos(100_000),
    Duration.ofNanos(250_000),
    Duration.ofNanos(500_000),
    Duration.ofMillis(1),
    Duration.ofNanos(2_500_000),
    Duration.ofMillis(5),
    Duration.ofMillis(10)
  };

  private final MeterRegistry registry;
  // registered once per method (and status): a registry lookup per call cost more than an echo
  private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Timer> streamTimers = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter[]> counters = new ConcurrentHashMap<>();

  /** Metrics into {@code registry}. */
  public GrpcMetrics(MeterRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    boolean unary = call.getMethodDescriptor().getType() == MethodDescriptor.MethodType.UNARY;
    Timer.Sample sample = Timer.start(registry);
    ServerCall<Q, R> counted =
        new SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            sample.stop(
                unary
                    ? timers.computeIfAbsent(method, GrpcMetrics.this::timer)
                    : streamTimers.computeIfAbsent(method, GrpcMetrics.this::streamTimer));
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
        .description("gRPC unary call latency, start to close")
        .tag("method", method)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(UNARY_MIN_MICROS * 1000L))
        .maximumExpectedValue(Duration.ofSeconds(UNARY_MAX_SECONDS))
        .serviceLevelObjectives(UNARY_SLOS)
        .register(registry);
  }

  private Timer streamTimer(String method) {
    return Timer.builder("grpc.server.stream")
        .description("gRPC streaming call duration, start to close")
        .tag("method", method)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofHours(STREAM_MAX_HOURS))
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
