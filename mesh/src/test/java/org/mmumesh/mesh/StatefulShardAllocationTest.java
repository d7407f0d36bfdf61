package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.junit.jupiter.api.Test;

/** The pure choice of {@link StatefulShardAllocation}: least loaded, healthy first, never moved. */
class StatefulShardAllocationTest {
  private static final Address A = new Address("pekko", "mmumesh-mesh", "127.0.0.1", 2551);
  private static final Address B = new Address("pekko", "mmumesh-mesh", "127.0.0.1", 2552);
  private static final Address C = new Address("pekko", "mmumesh-mesh", "127.0.0.1", 2553);

  private static Address pick(Map<Address, Integer> shards, Set<Address> healthy) {
    return StatefulShardAllocation.leastLoaded(
        shards.keySet(), shards::get, a -> a, healthy::contains);
  }

  @Test
  void newShard_goesToTheRegionWithFewestShards() {
    assertThat(pick(Map.of(A, 12, B, 0, C, 3), Set.of(A, B, C))).isEqualTo(B);
  }

  @Test
  void newShard_passesOverAnUnreachableOrLeavingMember_evenWhenItIsLeastLoaded() {
    assertThat(pick(Map.of(A, 12, B, 0, C, 3), Set.of(A, C))).isEqualTo(C);
  }

  @Test
  void newShard_goesToTheLeastLoadedOfAll_whenNoMemberIsHealthy() {
    assertThat(pick(Map.of(A, 12, B, 4), Set.of())).isEqualTo(B);
  }

  @Test
  void tie_goesToTheLowestAddress_soAllocationIsDeterministic() {
    assertThat(pick(Map.of(C, 2, A, 2, B, 2), Set.of(A, B, C))).isEqualTo(A);
  }

  @Test
  void noRegion_noChoice() {
    assertThat(pick(Map.of(), Set.of())).isNull();
  }

  @Test
  void rebalance_neverMovesAShard_howeverUnbalanced() throws Exception {
    StatefulShardAllocation s = new StatefulShardAllocation();
    long before = StatefulShardAllocation.rebalanceRounds();
    scala.concurrent.Future<java.util.Set<String>> moved =
        s.rebalance(new java.util.HashMap<>(), Set.of());
    assertThat(moved.value().get().get()).isEmpty();
    assertThat(StatefulShardAllocation.rebalanceRounds()).isEqualTo(before + 1);
  }
}
