package org.mmumesh.cli;

import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;

/**
 * A child-JVM main for {@link FatalErrorsTest}: sets up fatal-error handling as {@link Main#main}
 * does, starts an actor system and throws an {@link OutOfMemoryError} on a thread of the dispatcher
 * {@code args[0]} (e.g. {@code pekko.io.pinned-dispatcher}, where an OOM under load once surfaced
 * as Pekko's "Uncaught error from thread" and stack trace). It first prints the thread's name on
 * stderr, so the test can check where the error was thrown.
 */
final class FatalOnDispatcher {
  private FatalOnDispatcher() {}

  public static void main(String[] args) throws Exception {
    FatalErrors.install();
    FatalAwareExecutor.install();
    ActorSystem system = ActorSystem.create("mmumesh-fatal");
    system
        .dispatchers()
        .lookup(args[0])
        .execute(
            () -> {
              System.err.println("thrown on " + Thread.currentThread().getName());
              System.err.flush();
              throw new OutOfMemoryError("Java heap space");
            });
    // the handler halts the JVM; ending here instead (exit code 0) fails the test
    system.getWhenTerminated().toCompletableFuture().get(2, TimeUnit.MINUTES);
  }
}
