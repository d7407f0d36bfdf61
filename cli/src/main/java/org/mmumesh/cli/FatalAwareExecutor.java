package org.mmumesh.cli;

import com.typesafe.config.Config;
import java.util.concurrent.ThreadFactory;
import org.apache.pekko.actor.LightArrayRevolverScheduler;
import org.apache.pekko.dispatch.DispatcherPrerequisites;
import org.apache.pekko.dispatch.ExecutorServiceConfigurator;
import org.apache.pekko.dispatch.ExecutorServiceFactory;
import org.apache.pekko.dispatch.ForkJoinExecutorConfigurator;
import org.apache.pekko.dispatch.MonitorableThreadFactory;
import org.apache.pekko.event.LoggingAdapter;

/**
 * Pekko's fork-join executor whose threads report an environment failure (out of memory, a stack
 * overflow) as {@link FatalErrors} does, in one line with exit code 3, instead of Pekko's stack
 * trace and exit code 255 ({@code jvm-exit-on-fatal-error}). Every other failure goes to Pekko's
 * own handler as before. The CLI selects it for the default, internal and remoting dispatchers (all
 * fork-join) through system properties ({@link #install}); the dispatchers' {@code
 * fork-join-executor} settings apply unchanged.
 */
public final class FatalAwareExecutor extends ExecutorServiceConfigurator {
  private final ForkJoinExecutorConfigurator forkJoin;

  /** Called by Pekko with the dispatcher's configuration. */
  public FatalAwareExecutor(Config config, DispatcherPrerequisites prerequisites) {
    super(config, prerequisites);
    this.forkJoin =
        new ForkJoinExecutorConfigurator(config.getConfig("fork-join-executor"), prerequisites);
  }

  /** Selects this executor for Pekko's default and internal dispatchers (unless already set). */
  static void install() {
    for (String d :
        new String[] {
          "actor.default-dispatcher",
          "actor.internal-dispatcher",
          "remote.default-remote-dispatcher"
        }) {
      String key = "pekko." + d + ".executor";
      if (System.getProperty(key) == null) {
        System.setProperty(key, FatalAwareExecutor.class.getName());
      }
    }
    if (System.getProperty("pekko.scheduler.implementation") == null) {
      System.setProperty("pekko.scheduler.implementation", Scheduler.class.getName());
    }
  }

  @Override
  public ExecutorServiceFactory createExecutorServiceFactory(String id, ThreadFactory factory) {
    return forkJoin.createExecutorServiceFactory(id, wrap(factory));
  }

  /**
   * {@code factory} with threads whose uncaught environment failures are {@link FatalErrors}'s
   * (reported in one line, then a halt with exit code 3); other failures go to Pekko's handler.
   */
  static ThreadFactory wrap(ThreadFactory factory) {
    if (!(factory instanceof MonitorableThreadFactory m)) {
      return factory;
    }
    Thread.UncaughtExceptionHandler pekko = m.exceptionHandler();
    return m.copy(
        m.name(),
        m.daemonic(),
        m.contextClassLoader(),
        (thread, e) -> {
          if (FatalErrors.isEnvironmentFailure(e)) {
            FatalErrors.report(e, System.err);
            Runtime.getRuntime().halt(FatalErrors.EXIT_CODE);
          }
          pekko.uncaughtException(thread, e);
        },
        m.counter());
  }

  /** Pekko's scheduler whose timer thread reports environment failures as the executors do. */
  public static final class Scheduler extends LightArrayRevolverScheduler {
    /** Called by Pekko ({@code pekko.scheduler.implementation}). */
    public Scheduler(Config config, LoggingAdapter log, ThreadFactory threadFactory) {
      super(config, log, wrap(threadFactory));
    }
  }
}
