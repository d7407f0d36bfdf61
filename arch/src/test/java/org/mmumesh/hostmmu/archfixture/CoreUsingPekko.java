package org.mmumesh.hostmmu.archfixture;

import org.apache.pekko.actor.typed.ActorRef;

/** Fixture: a core (not in an actor package) that names a Pekko type. */
public final class CoreUsingPekko {
  ActorRef<String> peer;
}
