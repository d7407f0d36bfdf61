package org.mmumesh.mesh;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.mmumesh.common.AccessTrace;

/**
 * What the node join and node loss tests read: a VM's state as the API shows it, and which entities
 * and shard regions a node has.
 */
final class NodeStates {
  private NodeStates() {}

  static <T> T join(CompletionStage<T> s) {
    return s.toCompletableFuture().join();
  }

  /** One VM's state as the API reads it: memory, the R/C of the touched pages, its counters. */
  record VmState(List<Long> memory, List<AccessTrace.Rc> rc, Map<String, Long> counters) {

    /**
     * VM {@code vm}'s {@code pages} pages and the R/C of {@code touched} pages from {@code base}.
     */
    static VmState read(Simulation sim, int vm, int pages, int touched, long base) {
      List<Long> mem = new ArrayList<>();
      for (long fp : join(sim.readMemory(vm, 0, pages))) {
        mem.add(fp);
      }
      List<AccessTrace.Rc> rc = new ArrayList<>();
      for (int p = 0; p < touched; p++) {
        rc.add(join(sim.readRc(vm, 0, base + p * 4096L)));
      }
      return new VmState(mem, rc, join(sim.vmStats(vm)).counters());
    }
  }

  /** The ids of the entities of type {@code key} that run on {@code node}. */
  static Set<String> entities(ActorSystem<?> node, EntityTypeKey<?> key) {
    ShardRegion.CurrentShardRegionState state =
        MeshAsks.ask(
            node,
            ClusterSharding.get(node).shardState(),
            (ActorRef<ShardRegion.CurrentShardRegionState> r) -> new GetShardRegionState(key, r));
    Set<String> ids = new TreeSet<>();
    state.getShards().forEach(s -> ids.addAll(s.getEntityIds()));
    return ids;
  }

  /** The nodes whose region of {@code key} the coordinator knows (with or without shards). */
  static Set<Address> regions(ActorSystem<?> node, EntityTypeKey<?> key) {
    ShardRegion.ClusterShardingStats stats =
        MeshAsks.ask(
            node,
            ClusterSharding.get(node).shardState(),
            (ActorRef<ShardRegion.ClusterShardingStats> r) ->
                new GetClusterShardingStats(key, Duration.ofSeconds(5), r));
    return new HashSet<>(stats.getRegions().keySet());
  }
}
