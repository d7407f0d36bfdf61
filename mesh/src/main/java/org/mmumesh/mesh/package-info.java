/**
 * The actor mesh (architecture sections 4 and 6): the entities of the actor modules as Cluster
 * Sharding entities on one or more Pekko cluster nodes, the run driver, the {@link
 * org.mmumesh.mesh.Simulation} port the gateway calls, admission control and the event feed;
 * design: docs/design.md.
 *
 * <ul>
 *   <li>Wiring: {@link org.mmumesh.mesh.Guardian} (entity types, ids, roles), {@link
 *       org.mmumesh.mesh.NodeGlue} and {@link org.mmumesh.mesh.EntityForwarder}, the replicated
 *       {@link org.mmumesh.mesh.MeshDirectory} of hosts and VMs.
 *   <li>Static runs: {@link org.mmumesh.mesh.MeshEngine} and {@link org.mmumesh.mesh.MeshCluster}
 *       over {@link org.mmumesh.mesh.MeshNodes} (node bootstrap), {@link
 *       org.mmumesh.mesh.MeshRunDriver} (lockstep rounds of the engine's {@code LockstepSchedule},
 *       or free-running {@link org.mmumesh.mesh.Driver}s), {@link org.mmumesh.mesh.MeshRunResults}
 *       (result collection) and {@link org.mmumesh.mesh.MeshAsks}; {@link
 *       org.mmumesh.mesh.MeshInvariants}, the one invariant check of the mesh.
 *   <li>Run-time hosts and VMs: the {@link org.mmumesh.mesh.Simulation} port with its own types
 *       ({@link org.mmumesh.mesh.PortTypes} converts to and from the actors'), served by {@link
 *       org.mmumesh.mesh.MeshSimulation} with one {@link org.mmumesh.mesh.SimulationArea} per
 *       gateway service area ({@link org.mmumesh.mesh.HostsArea}, {@link org.mmumesh.mesh.VmsArea},
 *       {@link org.mmumesh.mesh.AccessArea}, {@link org.mmumesh.mesh.MemoryArea}, {@link
 *       org.mmumesh.mesh.GuestHtabArea}, {@link org.mmumesh.mesh.KsmArea}, {@link
 *       org.mmumesh.mesh.ClusterArea}).
 *   <li>Limits: {@link org.mmumesh.mesh.Admission}, {@link org.mmumesh.mesh.MemoryBudget} and
 *       {@link org.mmumesh.mesh.FootprintEstimator} (pure).
 *   <li>Event feed: {@link org.mmumesh.mesh.EventFeed} and its watchers and backlogs.
 * </ul>
 *
 * <p>The mesh is actor code by design; it names nothing of the gateway (an architecture test checks
 * it).
 */
package org.mmumesh.mesh;
