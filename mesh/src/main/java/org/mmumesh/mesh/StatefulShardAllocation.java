package org.mmumesh.mesh;

import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ShardCoordinator;
import org.apache.pekko.dispatch.Futures;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;

/**
 * The shard allocation strategy of every mesh entity type: a new shard goes to the least-loaded
 * region (fewest shards) among those on reachable members that are Up, and a live shard is never
 * moved ({@link #rebalance} answers nothing, ever).
 *
 * <p><b>Why.</b> Every entity's state (guest HTABs, frames, shadow caches, vCPU counters and TLBs)
 * lives in memory only. Pekko's default strategy rebalances shards towards a node that joins, and a
 * rebalanced entity restarts empty on its new node: guest HPTEs that existed answer NOT_FOUND,
 * counters read 0, and nothing says so. Until entity state can be handed over (checkpoints, issue
 * 13), the only safe rebalance is none: a node that joins takes new shards (it is the least loaded)
 * and leaves the live ones where they are. A shard whose node was lost is allocated again by the
 * same rule when next addressed; its entities then start where their state does not exist, and
 * refuse to serve ({@link LostEntities}).
 *
 * <p>The coordinator offers only regions of the entity type's role (nodes without the role run
 * proxies, which hold no shards), so the role is already right; among them a region on an
 * unreachable member, or one that is leaving, is passed over while any healthy one exists (so a new
 * VM created right after a node was lost does not wait for the lost node). Ties go to the lowest
 * address, so allocation is deterministic for a given cluster.
 */
final class StatefulShardAllocation extends ShardCoordinator.AbstractShardAllocationStrategy
    implements ShardCoordinator.ActorSystemDependentAllocationStrategy {
  /** Rebalance rounds asked of any instance in this JVM (each answered with nothing). */
  private static final AtomicLong REBALANCE_ROUNDS = new AtomicLong();

  private volatile Cluster cluster;

  @Override
  public void start(ActorSystem system) {
    this.cluster = Cluster.get(system);
  }

  @Override
  public Future<ActorRef> allocateShard(
      ActorRef requester, String shardId, Map<ActorRef, IndexedSeq<String>> current) {
    Cluster c = cluster;
    Address self = c == null ? null : c.selfAddress();
    Set<Address> healthy = c == null ? null : healthy(c);
    ActorRef best =
        leastLoaded(
            current.keySet(),
            r -> current.get(r).size(),
            r -> addressOf(r, self),
            a -> healthy == null || healthy.contains(a));
    return Futures.successful(best == null ? requester : best);
  }

  /** Never moves a live shard (see the class comment). */
  @Override
  public Future<Set<String>> rebalance(
      Map<ActorRef, IndexedSeq<String>> current, Set<String> rebalanceInProgress) {
    REBALANCE_ROUNDS.incrementAndGet();
    return Futures.successful(Set.of());
  }

  /** How many rebalance rounds any coordinator in this JVM asked for (tests wait for one). */
  static long rebalanceRounds() {
    return REBALANCE_ROUNDS.get();
  }

  /**
   * The region to give a new shard: the one with the fewest shards among those whose member is
   * {@code healthy}, or among all when none is; ties to the lowest address. Null when there is no
   * region.
   */
  static <R> R leastLoaded(
      Set<R> regions,
      java.util.function.ToIntFunction<R> shards,
      java.util.function.Function<R, Address> address,
      java.util.function.Predicate<Address> healthy) {
    Objects.requireNonNull(regions, "regions");
    Comparator<R> order =
        Comparator.<R>comparingInt(shards).thenComparing(r -> String.valueOf(address.apply(r)));
    R best = regions.stream().filter(r -> healthy.test(address.apply(r))).min(order).orElse(null);
    return best != null ? best : regions.stream().min(order).orElse(null);
  }

  private static Address addressOf(ActorRef region, Address self) {
    Address a = region.path().address();
    return a.hasLocalScope() && self != null ? self : a;
  }

  /** The members that are Up (or WeaklyUp) and reachable from this node. */
  private static Set<Address> healthy(Cluster c) {
    Set<Address> out = new java.util.HashSet<>();
    Set<Member> unreachable = c.state().getUnreachable();
    for (Member m : c.state().getMembers()) {
      MemberStatus s = m.status();
      if ((s == MemberStatus.up() || s == MemberStatus.weaklyUp()) && !unreachable.contains(m)) {
        out.add(m.address());
      }
    }
    return out;
  }
}
