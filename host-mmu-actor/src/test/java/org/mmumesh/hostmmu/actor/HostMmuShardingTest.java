package org.mmumesh.hostmmu.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.hostmmu.HostMmuConfig;

/** The HostMmu entity on a single-node cluster: one entity per VM, addressed {@code vm-<v>}. */
class HostMmuShardingTest {
  private static final ActorTestKit kit =
      ActorTestKit.create(
          "HostMmuShardingTest",
          ConfigFactory.parseString(
                  """
                  pekko.actor.provider = cluster
                  pekko.remote.artery.canonical.hostname = "127.0.0.1"
                  pekko.remote.artery.canonical.port = 0
                  pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                  """)
              .withFallback(ConfigFactory.load()));

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  @Test
  void entitiesPerVm_keepSeparateState() {
    Cluster cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    ActorRef<ShardingEnvelope<HostMmu.Command>> region =
        HostMmu.initSharding(kit.system(), vm -> HostMmuConfig.host64(1 + vm));

    TestProbe<HostMmu.LookupReply> p = kit.createTestProbe();
    region.tell(
        new ShardingEnvelope<>(
            HostMmu.entityId(1), new HostMmu.Lookup(1, 1, 0x1234L, 0, p.getRef())));
    HostMmu.LookedUp l = p.expectMessageClass(HostMmu.LookedUp.class, Duration.ofSeconds(20));
    assertThat(l.slot()).isEqualTo(-1);

    // vm-0 has one vCPU, so vCPU 1 is out of range there.
    region.tell(
        new ShardingEnvelope<>(
            HostMmu.entityId(0), new HostMmu.Lookup(2, 1, 0x1234L, 0, p.getRef())));
    assertThat(p.expectMessageClass(HostMmu.Rejected.class, Duration.ofSeconds(20)).reason())
        .contains("allowed 0 to 0");
  }

  @Test
  void entityIds_parseAndReject() {
    assertThat(HostMmu.vmOf(HostMmu.entityId(7))).isEqualTo(7);
    assertThatThrownBy(() -> HostMmu.vmOf("vm-x"))
        .hasMessageStartingWith("entityId: 'vm-x'")
        .hasMessageContaining("0 to 2147483647");
    assertThatThrownBy(() -> HostMmu.vmOf("vm-9999999999"))
        .hasMessageStartingWith("entityId: 'vm-9999999999'")
        .hasMessageContaining("0 to 2147483647");
  }
}
