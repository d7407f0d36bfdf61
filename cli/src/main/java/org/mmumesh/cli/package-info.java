/**
 * The {@code bin/mmumesh} launcher (picocli): {@code run} (either engine in process), {@code demo}
 * (embedded gateways driven by {@link org.mmumesh.cli.LockstepClient}, which reproduces the
 * sequential engine's numbers over gRPC), {@code serve}, {@code client} (a gRPC client of a running
 * gateway) and {@code translate} (single xlate walks, spec 2 and 3). Bad options exit 2 naming the
 * option and its range; failures of the environment exit 3 ({@link org.mmumesh.cli.FatalErrors}).
 * Design: docs/design.md.
 */
package org.mmumesh.cli;
