package org.mmumesh.mesh.archfixture;

import org.mmumesh.gateway.archfixture.GatewayThing;

/** Fixture: the mesh (below the gateway) naming a gateway class. */
public final class MeshUsingGateway {
  GatewayThing gateway;
}
