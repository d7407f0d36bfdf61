package org.mmumesh.shell.archfixture;

import org.apache.pekko.actor.typed.Behavior;

/** Fixture: the shells' shared kit (actor code by design) naming a Pekko type, as it may. */
public final class KitUsingPekko {
  Behavior<String> behavior;
}
