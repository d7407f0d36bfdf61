package org.mmumesh.vcpu.archfixture;

import org.apache.pekko.actor.typed.ActorRef;

/** Fixture: an actor shell still in its core's package (today's layout): it uses Pekko. */
public final class ShellBesideItsCore {
  ActorRef<String> peer;

  /** A protocol type nested in the shell (it names no Pekko type itself). */
  public record AccessOp(long ea) {}
}
