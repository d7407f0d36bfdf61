package org.mmumesh.pageframe.archfixture;

import org.mmumesh.hostmmu.archfixture.HostThing;

/** Fixture: page frames naming a host MMU class. */
public final class FramesUsingHost {
  HostThing host;
}
