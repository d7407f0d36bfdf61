package org.mmumesh.bench;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.Done;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.apache.pekko.actor.ExtensionIdProvider;

/**
 * A Pekko extension that notes when an actor system finished starting and when its termination
 * began, so {@link MeshBenchmark} can time {@code MeshEngine.run} without the actor system's
 * start-up and shutdown (which it cannot do from outside otherwise: the engine makes and terminates
 * its own system). Loaded through the {@code pekko.extensions} setting, which {@link #install} puts
 * in the system properties before any configuration is loaded.
 *
 * <p>State: per system name, the {@code System.nanoTime()} of the extension's creation (at system
 * start) and of the first coordinated-shutdown phase ({@code before-service-unbind}).
 */
public final class ShutdownClock implements Extension {

  /** The extension id. */
  public static final Id ID = new Id();

  /** When a system started and began to terminate ({@code stopping = 0} while running). */
  public record Times(long started, long stopping) {}

  private static final Map<String, Times> LAST = new ConcurrentHashMap<>();

  private ShutdownClock(ExtendedActorSystem system) {
    String name = system.name();
    LAST.put(name, new Times(System.nanoTime(), 0));
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeServiceUnbind(),
            "mmumesh-bench-shutdown-clock",
            () -> {
              LAST.computeIfPresent(name, (k, t) -> new Times(t.started(), System.nanoTime()));
              return CompletableFuture.completedFuture(Done.getInstance());
            });
  }

  /** The times of the last system named {@code name}, or null. */
  public static Times last(String name) {
    return LAST.get(name);
  }

  /**
   * Makes every actor system created from {@code ConfigFactory.load()} from now on load this
   * extension (a system property, so it is idempotent).
   */
  public static void install() {
    System.setProperty("pekko.extensions.0", Id.class.getName());
    com.typesafe.config.ConfigFactory.invalidateCaches();
  }

  /** The extension id, also its provider for {@code pekko.extensions}. */
  public static final class Id extends AbstractExtensionId<ShutdownClock>
      implements ExtensionIdProvider {
    @Override
    public ShutdownClock createExtension(ExtendedActorSystem system) {
      return new ShutdownClock(system);
    }

    @Override
    public Id lookup() {
      return ID;
    }
  }
}
