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
 * <p><b>A run</b> ({@link MeshCluster#run(Pacing)}) sets ksmd up through the host's {@code
 * PageFrame} entity, where ksmd lives ({@code run} 1 from the start, as the sequential engine's
 * scanner), creates each VM on the page frames as {@code SequentialEngine.createVm} does ({@code
 * CreateVm}, memslot 0 over {@code [0, layout.memoryPages)} at host page 0, {@code KsmMadvise} of
 * that range mergeable, the boot image's pages populated), runs {@code ksmWarmupPasses} full KSM
 * passes ({@code KsmFullScans}) before any vCPU starts, then runs the vCPUs with one of two {@link
 * Pacing}s, and collects the vCPUs' counters, the guest kernels' events, the final frame contents
 * of every gfn ({@code ReadFrames}), the guest HTAB words ({@code DumpHtab}), every VM's shadow
 * cache ({@code HostMmu.DumpShadow}) and the KSM and page-frame counters, into a {@link MeshResult}
 * whose {@link MeshResult#runResult()} is the engine's {@code RunResult}. Every access is counted
 * once, completed or failed (invariant 6): each batch's first answer only, unanswered batches
 * resent with the same id after {@link #RESEND_AFTER}.
 *
 * <p><b>{@link Pacing#LOCKSTEP}</b> (the default) gives the sequential engine's answers: rounds of
 * the engine's {@link org.mmumesh.engine.LockstepSchedule}, in which every vCPU runs one {@code
 * RunBatch} of exactly {@code cfg.quantum()} accesses (the batch start is the vCPU's guest entry,
 * as the start of a quantum in the engine), the vCPUs of one VM one after another in index order,
 * one vCPU of every VM at once; once every batch of a round is answered (every vCPU idle) the
 * simulated clock is recomputed from the vCPUs' counters and the page frames' COW breaks ({@link
 * org.mmumesh.engine.SimClock}, both engines' clock), ksmd runs every batch of {@code
 * ksmPagesToScan} pages due by that clock (one per {@code ksmSleepMillisecs} of simulated time from
 * time 0, as the schedule says; sent as {@code PageFrame.KsmScan} and continued after each merge
 * handshake, as ksmd's timer batches are), and the KSM series is sampled where the engine samples
 * it (at 0, whenever the clock passed a multiple of {@code sampleIntervalNanos}, and at the end).
 * KSM's notifier events therefore reach the host MMUs only while every vCPU is idle. ksmd's own
 * wall-clock timer scans nothing in this mode ({@code pages_to_scan} 0).
 *
 * <p><b>How close to the sequential engine.</b> The engine runs the vCPUs one after the other in
 * one thread and adds each event's cost to one clock; the mesh runs different VMs' vCPUs
 * concurrently, and a VM's vCPUs one after another in the engine's order. KSM only looks at the
 * state between rounds, where both clocks are the same sum of the same counters, so for VMs that
 * share nothing the two engines end in the same state, with one vCPU per VM or several (issue 4's
 * differential test, issue 11's {@code MultiVcpuDeterminismTest}; the guest HTAB, frames, shadow
 * caches and counters) One difference in form remains for several vCPUs per VM: the engine watches
 * missed C bits (Q4, {@code CBitWatch}) per VM, the {@code Vcpu} per vCPU; the tests find the
 * counts equal, but not by construction. Two things the mesh does not reproduce: the engine's
 * {@code loadDigest} (the mesh's loads carry no content; 0 here), and the engine's last guest entry
 * of a vCPU whose access count is a multiple of the quantum (the engine enters the guest once more,
 * processing a pending Q8 flush, before it notices the source is empty; the {@code Vcpu} accepts no
 * empty batch and enters the guest only to run one), so such a vCPU may keep shadow entries the
 * engine flushed.
 *
 * <p><b>{@link Pacing#FREE}</b> is the actor mesh unpaced: {@link Driver}s keep up to {@link
 * #MAX_OUTSTANDING} batches of {@link #BATCH} accesses outstanding per vCPU, and ksmd scans on its
 * wall-clock timer (in the host's {@code PageFrame}) ({@code pages_to_scan} and {@code
 * sleep_millisecs} from the configuration, merges concurrent with faults) until every driver is
 * done, then stops ({@code run} 0, merges kept). Frame contents stay each guest's own (KSM never
 * changes content); counts and timings are not reproducible. The simulated clock is computed once,
 * at the end. Under quirk Q8 (LEGACY and FIXED) a flush request that reaches a {@code Vcpu} in the
 * middle of a batch is served before its next guest access (a lookup answered meanwhile is dropped
 * and repeated), as the kernel's IPI kicks the vCPU out of the guest. With ksmd merging every
 * millisecond of wall clock, each merge flushes every vCPU of the VM, so a fault can be flushed at
 * every retry's guest entry for a while: the default livelock bound (16 faults per access) can then
 * fail an access; {@code MeshRandomizedTest} raises it for these runs.
 *
 * <p>The host MMU defers Q8 full flushes to each vCPU's next guest entry ({@code
 * HostMmu.TlbShootdown.flushRequested}), as the engine does. Each VM has its own SID-map toggle
 * (compare with {@code EngineConfig.SidToggleScope.PER_VM}). The vCPU's configuration follows
 * {@link EngineConfig}: TLB entries and the livelock bound.
 */
public final class MeshEngine {
  /** The actor system's name (the same on every node of a cluster). */
  public static final String SYSTEM_NAME = "mmumesh-mesh";

  /** The class-path resource holding the mesh's configuration defaults. */
  public static final String CONFIG_RESOURCE = "mmumesh-mesh.conf";

  /** The role of nodes hosting the per-host entities: {@code PageFrame} (ksmd included). */
  public static final String ROLE_FRAMES = "frames";

  /** The role of nodes hosting the per-VM entities {@code GuestMmu} and {@code HostMmu}. */
  public static final String ROLE_MMU = "mmu";

  /** The role of nodes hosting the {@code Vcpu} entities. */
  public static final String ROLE_VCPU = "vcpu";

  /** Every role: a node with all of them runs every entity. */
  public static final Set<String> ALL_ROLES = Set.of(ROLE_FRAMES, ROLE_MMU, ROLE_VCPU);

  /** Accesses per {@code RunBatch} in {@link Pacing#FREE} (lockstep batches are a quantum). */
  public static final int BATCH = 256;

  /** Batches outstanding per vCPU in {@link Pacing#FREE} (one in lockstep). */
  public static final int MAX_OUTSTANDING = 2;

  /**
   * How long a driver waits for a batch's answer before sending it again with the same id (Pekko
   * delivery is at-most-once; the vCPU joins or re-answers a retried batch).
   */
  public static final Duration RESEND_AFTER = Duration.ofSeconds(5);

  private MeshEngine() {}

  /** How the vCPUs and ksmd are paced (see the class comment). */
  public enum Pacing {
    /** Rounds of one quantum per vCPU, KSM stepped by simulated time between rounds. */
    LOCKSTEP,
    /** Pipelined batches, ksmd on its wall-clock timer. */
    FREE
  }

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
   * Runs {@code spec} with {@code cfg} on the embedded single-node cluster, in {@link
   * Pacing#LOCKSTEP}, and returns the result ({@link MeshResult#runResult()} is the engine's).
   *
   * @throws IllegalArgumentException when the configuration does not fit the workload (a 64-bit
   *     guest on a 32-bit host)
   * @throws IllegalStateException when the node is not Up in time, or the mesh does not answer (a
   *     setup step was refused, or a step timed out)
   */
  public static MeshResult run(WorkloadSpec spec, EngineConfig cfg) {
    return run(spec, cfg, Pacing.LOCKSTEP);
  }

  /**
   * {@link #run(WorkloadSpec, EngineConfig)} with the given pacing. With {@code
   * cfg.checkInvariants()} and {@link Pacing#LOCKSTEP}, the architecture's invariants (section 5,
   * as {@link MeshCluster} checks them over the actors) are checked after every round
   * (incrementally: what changed in the round, see {@link MeshCluster#invariantViolations()}) and
   * fully after the run, and the first violation stops the run with an {@link
   * IllegalStateException} naming it.
   */
  public static MeshResult run(WorkloadSpec spec, EngineConfig cfg, Pacing pacing) {
    try (MeshCluster cluster = MeshCluster.embedded(spec, cfg)) {
      if (!cfg.checkInvariants() || pacing != Pacing.LOCKSTEP) {
        return cluster.run(pacing);
      }
      MeshResult result =
          cluster.run(
              pacing,
              round -> {
                List<String> bad = cluster.invariantViolations(true, round);
                if (!bad.isEmpty()) {
                  throw new IllegalStateException(
                      "invariants violated after round " + round + ": " + bad);
                }
              });
      List<String> bad = cluster.invariantViolations();
      if (!bad.isEmpty()) {
        throw new IllegalStateException("invariants violated at the end of the run: " + bad);
      }
      return result;
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
