package org.mmumesh.cli.archfixture;

import org.mmumesh.gateway.archfixture.GatewayThing;

/** Fixture: the CLI (above the gateway) naming a gateway class, as it may. */
public final class CliUsingGateway {
  GatewayThing gateway;
}
