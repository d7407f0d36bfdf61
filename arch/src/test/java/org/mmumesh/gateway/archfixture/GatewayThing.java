package org.mmumesh.gateway.archfixture;

/** Fixture: a gateway class. */
public final class GatewayThing {}
