package org.mmumesh.cli;

import com.typesafe.config.Config;
import java.util.concurrent.ThreadFactory;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.DynamicAccess;
import org.apache.pekko.actor.LightArrayRevolverScheduler;
import org.apache.pekko.dispatch.DispatcherConfigurator;
import org.apache.pekko.dispatch.DispatcherPrerequisites;
import org.apache.pekko.dispatch.ExecutorServiceConfigurator;
import org.apache.pekko.dispatch.ExecutorServiceFactory;
import org.apache.pekko.dispatch.ForkJoinExecutorConfigurator;
import org.apache.pekko.dispatch.Mailboxes;
import org.apache.pekko.dispatch.MonitorableThreadFactory;
import org.apache.pekko.dispatch.PinnedDispatcherConfigurator;
import org.apache.pekko.event.EventStream;
import org.apache.pekko.event.LoggingAdapter;
import scala.Option;
import scala.concurrent.ExecutionContext;

/**
 * Pekko's fork-join executor whose threads report an environment failure (out of memory, a stack
 * overflow) as {@link FatalErrors} does, in one line with exit code 3, instead of Pekko's stack
 * trace and exit code 255 ({@code jvm-exit-on-fatal-error}). Every other failure goes to Pekko's
 * own handler as before. The CLI selects it for the default, internal and remoting dispatchers (all
 * fork-join) through system properties ({@link #install}); the dispatchers' {@code
 * fork-join-executor} settings apply unchanged. Pekko's thread-pool dispatchers (the I/O selector's
 * {@code pekko.io.pinned-dispatcher}, the blocking-I/O dispatcher) get the same threads through
 * their {@code type} instead: {@link Pinned} and {@link Standard}.
 */
public final class FatalAwareExecutor extends ExecutorServiceConfigurator {
  private final ForkJoinExecutorConfigurator forkJoin;

  /** Called by Pekko with the dispatcher's configuration. */
  public FatalAwareExecutor(Config config, DispatcherPrerequisites prerequisites) {
    super(config, prerequisites);
    this.forkJoin =
        new ForkJoinExecutorConfigurator(config.getConfig("fork-join-executor"), prerequisites);
  }

  /**
   * Selects this executor for Pekko's fork-join dispatchers (default, internal, remoting) and
   * {@link Pinned} / {@link Standard} for its thread-pool ones (I/O selector, blocking I/O), unless
   * set.
   */
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
    // Thread-pool dispatchers keep their executor; their type wraps the threads (an OOM on the
    // TCP selector's pinned thread was Pekko's "Uncaught error from thread" and stack trace).
    setIfAbsent("pekko.io.pinned-dispatcher.type", Pinned.class.getName());
    setIfAbsent("pekko.actor.default-blocking-io-dispatcher.type", Standard.class.getName());
    if (System.getProperty("pekko.scheduler.implementation") == null) {
      System.setProperty("pekko.scheduler.implementation", Scheduler.class.getName());
    }
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
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

  /**
   * Pekko's {@code PinnedDispatcher} type whose thread reports environment failures in one line.
   */
  public static final class Pinned extends PinnedDispatcherConfigurator {
    /** Called by Pekko ({@code type} of a dispatcher). */
    public Pinned(Config config, DispatcherPrerequisites prerequisites) {
      super(config, new Wrapped(prerequisites));
    }
  }

  /** Pekko's {@code Dispatcher} type whose threads report environment failures in one line. */
  public static final class Standard extends DispatcherConfigurator {
    /** Called by Pekko ({@code type} of a dispatcher). */
    public Standard(Config config, DispatcherPrerequisites prerequisites) {
      super(config, new Wrapped(prerequisites));
    }
  }

  /** {@code p} with its thread factory {@link #wrap wrapped}; everything else unchanged. */
  private record Wrapped(DispatcherPrerequisites p, ThreadFactory threadFactory)
      implements DispatcherPrerequisites {
    Wrapped(DispatcherPrerequisites p) {
      this(p, wrap(p.threadFactory()));
    }

    @Override
    public EventStream eventStream() {
      return p.eventStream();
    }

    @Override
    public org.apache.pekko.actor.Scheduler scheduler() {
      return p.scheduler();
    }

    @Override
    public DynamicAccess dynamicAccess() {
      return p.dynamicAccess();
    }

    @Override
    public ActorSystem.Settings settings() {
      return p.settings();
    }

    @Override
    public Mailboxes mailboxes() {
      return p.mailboxes();
    }

    @Override
    public Option<ExecutionContext> defaultExecutionContext() {
      return p.defaultExecutionContext();
    }
  }
}
