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
 *   <li>Runs: {@link org.mmumesh.mesh.MeshEngine} and {@link org.mmumesh.mesh.MeshCluster} (static
 *       runs, lockstep KSM), {@link org.mmumesh.mesh.Driver} (a vCPU's batches), {@link
 *       org.mmumesh.mesh.MeshSimulation} (run-time hosts and VMs behind {@link
 *       org.mmumesh.mesh.Simulation}).
 *   <li>Limits: {@link org.mmumesh.mesh.Admission}, {@link org.mmumesh.mesh.MemoryBudget} and
 *       {@link org.mmumesh.mesh.FootprintEstimator} (pure).
 *   <li>Event feed: {@link org.mmumesh.mesh.EventFeed} and its watchers and backlogs.
 * </ul>
 *
 * <p>The mesh is actor code by design; it names nothing of the gateway (an architecture test checks
 * it).
 */
package org.mmumesh.mesh;
