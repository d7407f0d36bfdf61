package org.mmumesh.gateway;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;

/**
 * The gateway's readiness check for Pekko Management's {@code /ready} on a node with the {@code
 * gateway} role ({@link GatewayMain#startNode} registers it as {@code
 * pekko.management.health-checks.readiness-checks.mmumesh-gateway}): ready while this node's gRPC
 * server serves, from its start to the beginning of its graceful shutdown.
 */
public final class GatewayReadiness implements Supplier<CompletionStage<Boolean>> {
  /** The readiness-check name in the configuration. */
  static final String CHECK = "mmumesh-gateway";

  /** The node's gateway server, once it serves (a per-actor-system extension). */
  static final class Serving implements Extension {
    volatile GatewayServer server;
  }

  /** The extension's id. */
  static final AbstractExtensionId<Serving> SERVING =
      new AbstractExtensionId<>() {
        @Override
        public Serving createExtension(ExtendedActorSystem system) {
          return new Serving();
        }
      };

  private final ActorSystem system;

  /** Made by Pekko Management, once per node. */
  public GatewayReadiness(ActorSystem system) {
    this.system = system;
  }

  @Override
  public CompletionStage<Boolean> get() {
    GatewayServer server = SERVING.get(system).server;
    if (server == null) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("the gRPC gateway of this node is not serving yet"));
    }
    if (!server.isServing()) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("the gRPC gateway of this node is shutting down"));
    }
    return CompletableFuture.completedFuture(Boolean.TRUE);
  }
}
