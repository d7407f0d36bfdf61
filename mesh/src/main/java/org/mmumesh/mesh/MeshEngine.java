package org.mmumesh.mesh;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.workload.WorkloadSpec;

/**
 * Runs a workload on the actor mesh (architecture section 4): every component is a Cluster Sharding
 * entity of a Pekko cluster, wired by a {@link Guardian} on each node (entity types, ids and roles
 * are listed there).
 *
 * <p><b>The embedded default</b> ({@link #run(WorkloadSpec, EngineConfig)}) is a single-node
 * cluster in this JVM: one actor system named {@value #SYSTEM_NAME}, Artery TCP on {@code
 * 127.0.0.1} and a free port, the node joins itself and holds every role; the run starts once the
 * member is Up. {@link #run(WorkloadSpec, EngineConfig, List)} runs the same workload on several
 * nodes in this JVM (one cluster, free loopback ports, the entities spread by the nodes' roles);
 * {@link MeshCluster} gives the running cluster itself (placement queries, for tests).
 *
 * <p><b>Configuration</b> ({@value #CONFIG_RESOURCE} on the class path, read by {@link #config};
 * {@code application.conf} and system properties override it):
 *
 * <ul>
 *   <li>{@code mmumesh.mesh.hostname} ({@code "127.0.0.1"}): the Artery bind/advertised host.
 *   <li>{@code mmumesh.mesh.port} ({@code 0} = a free port): the Artery port.
 *   <li>{@code mmumesh.mesh.roles} ({@code [frames, mmu, vcpu]}): this node's cluster roles ({@link
 *       #ROLE_FRAMES}, {@link #ROLE_MMU}, {@link #ROLE_VCPU}).
 *   <li>{@code mmumesh.mesh.startup-timeout} ({@code 30s}): the wait for every node to be Up.
 *   <li>{@code mmumesh.mesh.shutdown-timeout} ({@code 30s}): the wait for each node to terminate.
 *   <li>fixed there: {@code pekko.actor.provider = cluster}; {@code
 *       org.mmumesh.common.CborSerializable} bound to {@code jackson-cbor}; Java serialization off;
 *       the split-brain resolver with {@code keep-majority}; cluster JMX off (several nodes may
 *       share a JVM); {@code pekko.cluster.sharding.retry-interval = 200ms} (a new mesh's regions
 *       find their coordinators sooner than with the 2 s default); {@code
 *       pekko.cluster.min-nr-of-members} (raised by {@link MeshCluster} to its node count).
 * </ul>
 *
 * <p>Each run creates each VM on the page frames as {@code SequentialEngine.createVm} does ({@code
 * CreateVm}, memslot 0 over {@code [0, layout.memoryPages)} at host page 0, the boot image's pages
 * populated), feeds every vCPU its access source in {@code RunBatch}es of {@link #BATCH} accesses
 * (at most {@link #MAX_OUTSTANDING} outstanding per vCPU), waits for every batch, and collects the
 * vCPUs' counters, the final frame contents of every gfn ({@code ReadFrames}) and the guest HTAB
 * words ({@code DumpHtab}). Every access is counted once, completed or failed (invariant 6): a
 * driver counts the first answer of each batch only and resends unanswered batches with the same id
 * after {@link #RESEND_AFTER}.
 *
 * <p>Differences from the sequential engine: <b>KSM is off</b> in the mesh (no KSM actor is wired
 * yet), and the host MMU applies Q8 full flushes at notifier time, where the sequential engine
 * defers them to guest entry, so exit and shadow-cache counts may differ; frame contents and guest
 * HTAB words do not. The vCPU's configuration follows {@link EngineConfig}: TLB entries and the
 * livelock bound.
 */
public final class MeshEngine {
  /** The actor system's name (the same on every node of a cluster). */
  public static final String SYSTEM_NAME = "mmumesh-mesh";

  /** The class-path resource holding the mesh's configuration defaults. */
  public static final String CONFIG_RESOURCE = "mmumesh-mesh.conf";

  /** The role of nodes hosting the per-host entities: {@code PageFrame} (and {@code Ksm}). */
  public static final String ROLE_FRAMES = "frames";

  /** The role of nodes hosting the per-VM entities {@code GuestMmu} and {@code HostMmu}. */
  public static final String ROLE_MMU = "mmu";

  /** The role of nodes hosting the {@code Vcpu} entities. */
  public static final String ROLE_VCPU = "vcpu";

  /** Every role: a node with all of them runs every entity. */
  public static final Set<String> ALL_ROLES = Set.of(ROLE_FRAMES, ROLE_MMU, ROLE_VCPU);

  /** Accesses per {@code RunBatch}. */
  public static final int BATCH = 256;

  /** Batches outstanding per vCPU. */
  public static final int MAX_OUTSTANDING = 2;

  /**
   * How long a driver waits for a batch's answer before sending it again with the same id (Pekko
   * delivery is at-most-once; the vCPU joins or re-answers a retried batch).
   */
  public static final Duration RESEND_AFTER = Duration.ofSeconds(5);

  private MeshEngine() {}

  /**
   * A node's configuration: {@code overrides}, then system properties, {@code application.conf},
   * {@value #CONFIG_RESOURCE} and the libraries' {@code reference.conf}, resolved (so an override
   * of {@code mmumesh.mesh.port} or {@code mmumesh.mesh.roles} reaches the {@code pekko} keys
   * derived from it).
   */
  public static Config config(Config overrides) {
    ClassLoader cl = MeshEngine.class.getClassLoader();
    return overrides
        .withFallback(ConfigFactory.defaultOverrides(cl))
        .withFallback(ConfigFactory.defaultApplication(cl))
        .withFallback(
            ConfigFactory.parseResources(
                cl, CONFIG_RESOURCE, ConfigParseOptions.defaults().setAllowMissing(false)))
        .withFallback(ConfigFactory.defaultReference(cl))
        .resolve();
  }

  /**
   * Runs {@code spec} with {@code cfg} on the embedded single-node cluster and returns the
   * counters, failures, frames and HTAB words.
   *
   * @throws IllegalArgumentException when the configuration does not fit the workload (a 64-bit
   *     guest on a 32-bit host)
   * @throws IllegalStateException when the node is not Up in time, or the mesh does not answer (a
   *     setup step was refused, or a step timed out)
   */
  public static MeshResult run(WorkloadSpec spec, EngineConfig cfg) {
    try (MeshCluster cluster = MeshCluster.embedded(spec, cfg)) {
      return cluster.run();
    }
  }

  /**
   * Runs {@code spec} with {@code cfg} on {@code nodeRoles.size()} nodes in this JVM forming one
   * cluster, node {@code i} holding the roles {@code nodeRoles.get(i)}, node 0 driving; see {@link
   * MeshCluster#start}.
   */
  public static MeshResult run(
      WorkloadSpec spec, EngineConfig cfg, List<? extends Set<String>> nodeRoles) {
    try (MeshCluster cluster = MeshCluster.start(spec, cfg, nodeRoles)) {
      return cluster.run();
    }
  }
}
