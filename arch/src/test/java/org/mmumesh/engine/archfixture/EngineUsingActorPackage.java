package org.mmumesh.engine.archfixture;

import org.mmumesh.hostmmu.actor.archfixture.ShellUsingPekko;

/** Fixture: the engine naming a protocol type of a shell in an actor package. */
public final class EngineUsingActorPackage {
  ShellUsingPekko.Command command;
}
