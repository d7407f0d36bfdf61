/**
 * The gRPC gateway: the external API {@code mmumesh.v1} (architecture section 7) served over the
 * {@link org.mmumesh.mesh.Simulation} port. Each service validates its request (the {@code
 * *Requests} classes, every bad field named with its range), calls one method of the port and maps
 * the answer back ({@link org.mmumesh.gateway.ProtoMapping}); every failure goes through the one
 * error mapper, {@link org.mmumesh.gateway.StatusMapper}. Also: draining on shutdown ({@link
 * org.mmumesh.gateway.DrainGate}), per-RPC and simulation metrics for Prometheus, and {@link
 * org.mmumesh.gateway.GatewayMain}, the embedded single-node cluster with its server; design:
 * docs/design.md. Only the CLI and the benchmarks name this package (an architecture test checks
 * it).
 */
package org.mmumesh.gateway;
