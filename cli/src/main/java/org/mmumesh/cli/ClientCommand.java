package org.mmumesh.cli;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mmumesh client}: talks to a running gateway ({@code mmumesh serve}, or any node's) over
 * gRPC. The subcommands share {@code --target}; a gRPC error is printed as its status and message
 * (exit 2 for the caller's mistake, 3 for the environment: {@link GrpcErrors}), never as a stack
 * trace; when no gateway answers at the target, the message says which target was tried and how to
 * start a gateway ({@code bin/mmumesh serve}).
 */
@Command(
    name = "client",
    mixinStandardHelpOptions = true,
    description = "Drives a running mmumesh gateway over gRPC.",
    subcommands = {
      ClientCreate.class,
      ClientLoad.class,
      ClientRun.class,
      ClientHosts.class,
      ClientStats.class,
      ClientWatch.class
    })
final class ClientCommand {
  @Option(
      names = "--target",
      description = "The gateway, host:port (default ${DEFAULT-VALUE}).",
      defaultValue = "127.0.0.1:50051",
      scope = picocli.CommandLine.ScopeType.INHERIT)
  String target;

  @picocli.CommandLine.Mixin ClientTlsOptions tls = new ClientTlsOptions();

  /** A channel to {@code target}: TLS if a {@code --tls-*} option is given, else plaintext. */
  ManagedChannel channel() {
    int colon = target.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException(
          "--target: '" + target + "' is not host:port; allowed e.g. 127.0.0.1:50051");
    }
    int port;
    try {
      port = Integer.parseInt(target.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--target: '" + target + "' has no port number", e);
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("--target: port " + port + " is out of range 1 to 65535");
    }
    return NettyChannelBuilder.forAddress(target.substring(0, colon), port, tls.credentials())
        .build();
  }

  /**
   * Runs {@code body} on a channel, closing it; a gRPC failure becomes one line with its status and
   * the exit code {@link GrpcErrors#exitCode} gives it.
   */
  int with(java.io.PrintWriter err, ChannelBody body) {
    ManagedChannel ch = channel();
    try {
      return body.run(ch);
    } catch (StatusRuntimeException e) {
      err.println("mmumesh client: " + describe(e));
      err.flush();
      return GrpcErrors.exitCode(e.getStatus().getCode());
    } finally {
      ch.shutdownNow();
      try {
        ch.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * The failure as the user reads it: its status and description; for a gateway that cannot be
   * reached (nothing listens at the target, an unknown host), which target was tried and how to
   * start a gateway there.
   */
  String describe(StatusRuntimeException e) {
    String status = e.getStatus().getCode() + ": " + e.getStatus().getDescription();
    if (e.getStatus().getCode() == Status.Code.UNAVAILABLE && unreachable(e)) {
      String port = target.substring(target.lastIndexOf(':') + 1);
      return "no gateway answers at "
          + target
          + " ("
          + status
          + "). Start one with `bin/mmumesh serve --port "
          + port
          + "` (on that machine), or point --target at a running gateway.";
    }
    if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
      Throwable handshake = tlsFailure(e);
      if (tls.enabled() && handshake != null) {
        return "the TLS handshake with "
            + target
            + " failed ("
            + handshake.getMessage()
            + "); check that --tls-ca names the CA that signed the gateway's certificate, that the"
            + " certificate names the host in --target, and, if the gateway asks for client"
            + " certificates, --tls-cert and --tls-key";
      }
      if (!tls.enabled()) {
        return status
            + " (if the gateway at "
            + target
            + " serves TLS, connect with --tls-ca FILE, the CA that signed its certificate)";
      }
    }
    return status;
  }

  /** The TLS failure in {@code t}'s cause chain, or null. */
  private static Throwable tlsFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof javax.net.ssl.SSLException
          || c instanceof java.security.cert.CertificateException) {
        return c;
      }
    }
    return null;
  }

  /** True if the cause is a refused or failed connection (not a gateway that answered). */
  private static boolean unreachable(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof java.net.ConnectException
          || c instanceof java.net.UnknownHostException
          || c instanceof java.net.NoRouteToHostException) {
        return true;
      }
    }
    return false;
  }

  /** Work on an open channel. */
  @FunctionalInterface
  interface ChannelBody {
    int run(ManagedChannel ch);
  }
}
