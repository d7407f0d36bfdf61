package org.mmumesh.gateway;

import org.junit.jupiter.api.BeforeAll;

/**
 * {@link SimulationEndToEndTest}'s cases (every RPC) again, over Netty on a loopback port: real
 * HTTP/2 framing, flow-control windows and TCP, instead of the in-process transport.
 */
class SimulationEndToEndNettyTest extends SimulationEndToEndTest {

  @BeforeAll
  static void start() {
    mesh = new Mesh(true);
  }
}
