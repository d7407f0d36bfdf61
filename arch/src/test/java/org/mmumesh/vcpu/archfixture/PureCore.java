package org.mmumesh.vcpu.archfixture;

/** Fixture: a pure core the engine may drive. */
public final class PureCore {
  /** A value type nested in the core. */
  public record Step(int kind) {}
}
