package org.mmumesh.gateway;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC server wiring, separate from the service implementations (style item 11): the services,
 * {@code grpc.health.v1} (a {@link HealthStatusManager}: SERVING for the whole server and each
 * service once started) and server reflection (v1). {@link #shutdown(Duration, Runnable)} is
 * graceful: health NOT_SERVING first (load balancers stop sending), and new calls to the services
 * are refused UNAVAILABLE with a retry hint ({@link DrainGate}) while the server still listens, so
 * a new connection's health check also sees NOT_SERVING; in-flight calls drain for up to the given
 * time; then the streams still open are ended by their services (UNAVAILABLE with a retry hint, not
 * CANCELLED), and only after a short grace is whatever is left cancelled and the port closed.
 * Whoever owns the actor system registers the shutdown with CoordinatedShutdown's {@code
 * service-unbind} phase (its timeout raised above the drain) so the gateway stops before the actors
 * do.
 *
 * <p>Every service is wrapped by {@link RequestDecoding#guard}: a request that does not decode gets
 * INVALID_ARGUMENT naming the problem, never grpc's {@code UNKNOWN} and its logged stack trace.
 */
public final class GatewayServer implements AutoCloseable {
  /**
   * Largest inbound message, bytes: a LoadMemory image of 16 MiB (the API's limit) with room for
   * the other fields, and a workload batch of 65536 accesses in either encoding.
   */
  public static final int MAX_INBOUND_MESSAGE_BYTES = 16 * 1024 * 1024 + 64 * 1024;

  /** How long streams ended at the drain's deadline get to close before the rest is cancelled. */
  public static final Duration END_GRACE = Duration.ofSeconds(5);

  /** How long the stopped server gets to terminate (health watches) before it is forced. */
  public static final Duration STOP_GRACE = Duration.ofSeconds(5);

  private final Server server;
  private final HealthStatusManager health;
  private final DrainGate gate = new DrainGate();
  private final List<ServerServiceDefinition> services;
  private volatile boolean serving;

  private GatewayServer(
      ServerBuilder<?> builder, List<BindableService> services, List<ServerInterceptor> ics) {
    this.health = new HealthStatusManager();
    this.services = services.stream().map(BindableService::bindService).toList();
    List<ServerInterceptor> chain = new java.util.ArrayList<>();
    chain.add(gate); // innermost: the metrics interceptors see refused calls too
    chain.addAll(ics);
    for (ServerServiceDefinition d : this.services) {
      builder.addService(io.grpc.ServerInterceptors.intercept(RequestDecoding.guard(d), chain));
    }
    builder.addService(health.getHealthService());
    builder.addService(ProtoReflectionServiceV1.newInstance());
    builder.maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES);
    this.server = builder.build();
  }

  /**
   * A server on {@code host:port} (port 0: a free port, see {@link #port()}), not started.
   *
   * <p>Calls run on the Netty event loop ({@code directExecutor}), not on grpc's default cached
   * pool: every service here only validates, hands the request to the simulation asynchronously and
   * answers from the simulation's completion, so nothing blocks the loop, and skipping the handoff
   * to a pool thread for each message cut the loopback Echo p50 by about a fifth and raised
   * streamed/in-JVM from about 0.4-0.5 to 0.55-0.6 on this 2-core machine (issue 5's benchmark, A/B
   * runs). A service that blocks must not be added without its own executor.
   */
  public static GatewayServer netty(
      String host, int port, List<BindableService> services, List<ServerInterceptor> ics) {
    return netty(host, port, null, services, ics);
  }

  /**
   * {@link #netty(String, int, List, List)} serving TLS with {@code tls}'s credentials ({@link
   * GatewayTls#serverCredentials}), or plaintext where {@code tls} is null.
   */
  public static GatewayServer netty(
      String host,
      int port,
      GatewayTls tls,
      List<BindableService> services,
      List<ServerInterceptor> ics) {
    Fields.uint32("port", port, 0, 65535);
    InetSocketAddress address = new InetSocketAddress(host, port);
    NettyServerBuilder b =
        (tls == null
                ? NettyServerBuilder.forAddress(address)
                : NettyServerBuilder.forAddress(address, tls.serverCredentials()))
            .directExecutor();
    return new GatewayServer(b, services, ics);
  }

  /** An in-process server named {@code name} (tests, benchmarks), not started. */
  public static GatewayServer inProcess(
      String name, List<BindableService> services, List<ServerInterceptor> ics) {
    return new GatewayServer(
        InProcessServerBuilder.forName(Objects.requireNonNull(name, "name")).directExecutor(),
        services,
        ics);
  }

  /** Starts serving and reports SERVING on the health service. */
  public GatewayServer start() {
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException("gateway: cannot listen: " + e.getMessage(), e);
    }
    serving = true;
    setHealth(true);
    return this;
  }

  /**
   * Sets {@code grpc.health.v1} (the server and each service) to SERVING or NOT_SERVING: on a node
   * process it follows the node's readiness ({@link GatewayMain#startNode}). No effect once the
   * shutdown began (health stays NOT_SERVING).
   */
  public void setHealth(boolean ready) {
    ServingStatus status = ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    health.setStatus("", status);
    for (ServerServiceDefinition d : services) {
      health.setStatus(d.getServiceDescriptor().getName(), status);
    }
  }

  /** True from {@link #start} until the graceful shutdown begins. */
  public boolean isServing() {
    return serving;
  }

  /** The bound port (Netty), or -1 in process. */
  public int port() {
    return server.getPort();
  }

  /** {@link #shutdown(Duration, Runnable, Runnable)} with no streams of its own to end. */
  public void shutdown(Duration drain) {
    shutdown(drain, () -> {}, () -> {});
  }

  /**
   * Graceful shutdown: health NOT_SERVING, new calls refused (UNAVAILABLE, {@link
   * DrainGate#REFUSED}) while the port stays open, then {@code endFeeds} ends the streams that
   * never end by themselves (event watches), and in-flight calls drain for up to {@code drain}; if
   * some are still open then, {@code endStreams} (and {@code endFeeds} again) end the services'
   * open streams (UNAVAILABLE with a retry hint) and they get {@link #END_GRACE} to close; then the
   * server stops, and what is left after {@link #STOP_GRACE} is cancelled.
   */
  public void shutdown(Duration drain, Runnable endFeeds, Runnable endStreams) {
    serving = false;
    health.enterTerminalState();
    gate.close(); // from here no new call starts: endFeeds ends every watch there will be
    endFeeds.run();
    try {
      if (!gate.awaitIdle(drain)) {
        endFeeds.run();
        endStreams.run();
        gate.awaitIdle(END_GRACE);
      }
      server.shutdown();
      if (!server.awaitTermination(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        server.shutdownNow();
        server.awaitTermination(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** Calls in flight to the services (health and reflection not counted). */
  public int openCalls() {
    return gate.open();
  }

  /** True once terminated. */
  public boolean isTerminated() {
    return server.isTerminated();
  }

  @Override
  public void close() {
    shutdown(Duration.ofSeconds(5));
  }
}
