package org.mmumesh.engine.archfixture;

import org.mmumesh.vcpu.archfixture.PureCore;

/** Fixture: the engine driving a pure core, as it should. */
public final class EngineUsingCore {
  PureCore core;
  PureCore.Step step;
}
