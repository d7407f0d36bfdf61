package org.mmumesh.gateway;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The Prometheus scrape endpoint: {@code GET /metrics} on its own port answers the registry's text
 * exposition (KSM counters, faults by kind, access rates, per-RPC counts and latencies, as the
 * gateway registers them). Anything else is 404.
 */
public final class MetricsEndpoint implements AutoCloseable {
  private final HttpServer http;

  private MetricsEndpoint(HttpServer http) {
    this.http = http;
  }

  /** Serves {@code registry} on {@code host:port} (0 = a free port). */
  public static MetricsEndpoint start(String host, int port, PrometheusMeterRegistry registry) {
    return start(host, port, registry, () -> {});
  }

  /**
   * Serves {@code registry} on {@code host:port} (0 = a free port), running {@code beforeScrape}
   * (e.g. {@link SimulationMetrics#refresh}) before each scrape.
   */
  public static MetricsEndpoint start(
      String host, int port, PrometheusMeterRegistry registry, Runnable beforeScrape) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(beforeScrape, "beforeScrape");
    Fields.uint32("metrics_port", port, 0, 65535);
    try {
      HttpServer http = HttpServer.create(new InetSocketAddress(host, port), 16);
      http.createContext(
          "/",
          ex -> {
            try (ex) {
              if (!"/metrics".equals(ex.getRequestURI().getPath())
                  || !"GET".equals(ex.getRequestMethod())) {
                ex.sendResponseHeaders(404, -1);
                return;
              }
              beforeScrape.run();
              byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
              ex.getResponseHeaders()
                  .add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
              ex.sendResponseHeaders(200, body.length);
              try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
              }
            }
          });
      http.start();
      return new MetricsEndpoint(http);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "metrics: cannot listen on port " + port + ": " + e.getMessage(), e);
    }
  }

  /** The bound port. */
  public int port() {
    return http.getAddress().getPort();
  }

  @Override
  public void close() {
    http.stop(0);
  }
}
