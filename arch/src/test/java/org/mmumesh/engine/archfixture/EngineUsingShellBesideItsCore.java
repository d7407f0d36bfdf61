package org.mmumesh.engine.archfixture;

import org.mmumesh.vcpu.archfixture.ShellBesideItsCore;

/** Fixture: the engine naming a protocol type nested in a shell outside an actor package. */
public final class EngineUsingShellBesideItsCore {
  ShellBesideItsCore.AccessOp op;
}
