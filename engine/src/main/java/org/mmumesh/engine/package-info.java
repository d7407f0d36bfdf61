/**
 * The sequential engine (architecture section 3): every pure core driven from one thread in a fixed
 * order, so a run is a function of its workload, seed and configuration. It is the reference the
 * actor mesh is checked against and the fastest single-node mode; design: docs/design.md, "Two
 * engines".
 *
 * <p>{@link org.mmumesh.engine.SequentialEngine} runs the rounds, KSM batches and samples of the
 * {@link org.mmumesh.engine.LockstepSchedule} (the one schedule, also used by the mesh's lockstep
 * driver and the CLI's gRPC client); {@link org.mmumesh.engine.VmRuntime} and {@link
 * org.mmumesh.engine.VcpuRuntime} hold one VM's and one vCPU's cores (a vCPU's access path is its
 * {@code VcpuCore}); {@link org.mmumesh.engine.SimCosts} prices each event and {@link
 * org.mmumesh.engine.SimClock} is the one simulated clock, a function of the counters; {@link
 * org.mmumesh.engine.InvariantChecker} checks architecture section 5 after every event ({@code
 * --check-invariants}); {@link org.mmumesh.engine.RunResult} is what a run produced. The engine
 * depends on the core modules only: it names no actor shell and has no Pekko on its classpath (an
 * architecture test checks it).
 */
package org.mmumesh.engine;
