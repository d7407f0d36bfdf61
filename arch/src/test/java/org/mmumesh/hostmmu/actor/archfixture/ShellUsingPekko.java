package org.mmumesh.hostmmu.actor.archfixture;

import org.apache.pekko.actor.typed.ActorRef;

/** Fixture: an actor shell (in an actor package) that names a Pekko type, as it may. */
public final class ShellUsingPekko {
  ActorRef<String> peer;

  /** A protocol type nested in the shell. */
  public record Command(int id) {}
}
