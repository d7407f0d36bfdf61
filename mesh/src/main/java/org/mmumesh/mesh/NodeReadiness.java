package org.mmumesh.mesh;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.management.HealthCheckSettings;
import org.apache.pekko.management.javadsl.HealthChecks;

/**
 * Runs a node's readiness checks (the ones Pekko Management's {@code /ready} runs: {@code
 * pekko.management.health-checks.readiness-checks}, {@link MeshReadiness} among them) on a fixed
 * delay and tells a listener the answer, so that another edge can follow the same readiness: the
 * gateway's {@code grpc.health.v1} status.
 */
final class NodeReadiness {
  private NodeReadiness() {}

  /**
   * Every {@code every}, tells {@code listener} empty when the node is ready, else why not (the
   * failing check's message); until the node's actor system terminates.
   */
  static void watch(ActorSystem<?> system, Duration every, Consumer<Optional<String>> listener) {
    ExtendedActorSystem classic = (ExtendedActorSystem) Adapter.toClassic(system);
    HealthChecks checks =
        new HealthChecks(
            classic,
            HealthCheckSettings.create(
                system.settings().config().getConfig("pekko.management.health-checks")));
    system
        .scheduler()
        .scheduleWithFixedDelay(
            Duration.ZERO,
            every,
            () ->
                checks
                    .readyResult()
                    .whenComplete(
                        (r, e) ->
                            listener.accept(
                                e != null
                                    ? Optional.of(String.valueOf(e.getMessage()))
                                    : r.failure())),
            system.executionContext());
  }
}
