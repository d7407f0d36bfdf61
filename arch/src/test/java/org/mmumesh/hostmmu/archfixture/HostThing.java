package org.mmumesh.hostmmu.archfixture;

/** Fixture: a host MMU class other packages must not name. */
public final class HostThing {}
