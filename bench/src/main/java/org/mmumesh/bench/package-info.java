/**
 * Benchmarks, not tests ({@code bin/mmumesh-bench}; README, "Performance"): the JMH suite over the
 * cores and the sequential engine ({@link org.mmumesh.bench.XlateBenchmark}, {@link
 * org.mmumesh.bench.EngineBenchmark}, {@link org.mmumesh.bench.KsmBenchmark}), the mesh against a
 * raw Pekko request-chain baseline ({@link org.mmumesh.bench.MeshBenchmark}, {@link
 * org.mmumesh.bench.RawChainBaseline}), the gateway against a raw gRPC echo ({@link
 * org.mmumesh.bench.GatewayBenchmark}), heap footprints, invariant-check cost and event fan-out.
 */
package org.mmumesh.bench;
