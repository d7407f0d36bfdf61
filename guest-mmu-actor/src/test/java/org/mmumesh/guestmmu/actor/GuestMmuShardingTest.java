package org.mmumesh.guestmmu.actor;

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
import org.mmumesh.guestmmu.ActorFixtures;
import org.mmumesh.guestmmu.actor.GuestMmuProtocol.HostTlbie;

/** The GuestMmu entity on a single-node cluster, and its entity ids. */
class GuestMmuShardingTest {
  private static final ActorTestKit KIT =
      ActorTestKit.create(
          ConfigFactory.parseString(
                  "pekko.actor.provider = cluster\n"
                      + "pekko.remote.artery.canonical.hostname = 127.0.0.1\n"
                      + "pekko.remote.artery.canonical.port = 0\n")
              .withFallback(ConfigFactory.load()));

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  @Test
  void entityIds_roundTrip_andBadIdsNameTheField() {
    assertThat(GuestMmu.entityId(7)).isEqualTo("vm-7");
    assertThat(GuestMmu.vmOf("vm-2147483647")).isEqualTo(Integer.MAX_VALUE);
    for (String bad : new String[] {"vm-", "vm-x", "host-1", "vm-2147483648", "vm--1"}) {
      assertThatThrownBy(() -> GuestMmu.vmOf(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("entityId: '" + bad + "'")
          .hasMessageContaining("0 to 2147483647");
    }
  }

  @Test
  void shardedEntity_servesItsVm_andABadEntityIdRejects() {
    Cluster cluster = Cluster.get(KIT.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    TestProbe<HostTlbie> host = KIT.createTestProbe(HostTlbie.class);
    ActorRef<ShardingEnvelope<GuestMmu.Command>> region =
        GuestMmu.initSharding(
            KIT.system(),
            vm -> vm == 0 ? ActorFixtures.setup32() : ActorFixtures.setup64(),
            vm -> host.getRef());
    TestProbe<GuestMmu.ModeReply> modes = KIT.createTestProbe(GuestMmu.ModeReply.class);
    region.tell(new ShardingEnvelope<>("vm-0", new GuestMmu.GetMode(1, modes.getRef())));
    modes.expectMessage(Duration.ofSeconds(20), new GuestMmu.ModeOf(7));

    TestProbe<GuestMmu.VsidReply> vsids = KIT.createTestProbe(GuestMmu.VsidReply.class);
    region.tell(new ShardingEnvelope<>("vm-1", new GuestMmu.EsidToVsid(3, 0, 1, vsids.getRef())));
    // vm-1 is 64-bit: no SLB entry yet.
    vsids.expectMessage(
        Duration.ofSeconds(20), new GuestMmu.VsidOf(3, org.mmumesh.common.VsidTags.NO_VSID));

    region.tell(new ShardingEnvelope<>("vm-x", new GuestMmu.GetMode(0, modes.getRef())));
    GuestMmu.Rejected r = (GuestMmu.Rejected) modes.receiveMessage(Duration.ofSeconds(20));
    assertThat(r.requestId()).isEqualTo(-1);
    assertThat(r.reason()).startsWith("vm-x: entityId: 'vm-x'");
  }
}
