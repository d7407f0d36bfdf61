package org.mmumesh.pageframe.actor;

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
import org.mmumesh.pageframe.PageFrames;

/**
 * The PageFrame entity on a single-node cluster: one entity per host, addressed {@code host-<h>}.
 */
class PageFrameShardingTest {
  private static final ActorTestKit kit =
      ActorTestKit.create(
          "PageFrameShardingTest",
          ConfigFactory.parseString(
                  """
                  pekko.actor.provider = cluster
                  pekko.remote.artery.canonical.hostname = "127.0.0.1"
                  pekko.remote.artery.canonical.port = 0
                  pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                  mmumesh.page-frame.lease-timeout = 30s
                  """)
              .withFallback(ConfigFactory.load()));

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  @Test
  void entitiesPerHost_keepSeparateState() {
    Cluster cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    ActorRef<ShardingEnvelope<PageFrame.Command>> region = PageFrame.initSharding(kit.system());

    TestProbe<PageFrame.VmReply> vm = kit.createTestProbe();
    region.tell(
        new ShardingEnvelope<>(PageFrame.entityId(1), new PageFrame.CreateVm(1, 0, vm.getRef())));
    vm.expectMessage(Duration.ofSeconds(20), new PageFrame.VmCreated(1, 0));
    TestProbe<PageFrame.SlotReply> slot = kit.createTestProbe();
    region.tell(
        new ShardingEnvelope<>(
            PageFrame.entityId(1),
            new PageFrame.AddSlot(2, 0, 0, 0x100, 16, 0, false, slot.getRef())));
    slot.expectMessageClass(PageFrame.SlotAdded.class, Duration.ofSeconds(20));

    TestProbe<PageFrame.PfnReply> pfn = kit.createTestProbe();
    region.tell(
        new ShardingEnvelope<>(
            PageFrame.entityId(1),
            new PageFrame.GfnToPfnProt(3, 0, 0, 0x100, false, pfn.getRef())));
    PageFrame.PfnAnswered a =
        pfn.expectMessageClass(PageFrame.PfnAnswered.class, Duration.ofSeconds(20));
    assertThat(a.result().pfn()).isEqualTo(PageFrames.ZERO_PFN);

    // host-2 is another host: VM 0 does not exist there
    region.tell(
        new ShardingEnvelope<>(
            PageFrame.entityId(2),
            new PageFrame.GfnToPfnProt(4, 0, 0, 0x100, false, pfn.getRef())));
    assertThat(pfn.expectMessageClass(PageFrame.Rejected.class, Duration.ofSeconds(20)).reason())
        .startsWith("vm: 0 does not exist");
  }

  @Test
  void entityIds_parseAndReject_andSettingsComeFromConfig() {
    assertThat(PageFrame.hostOf(PageFrame.entityId(7))).isEqualTo(7);
    assertThatThrownBy(() -> PageFrame.hostOf("vm-1")).hasMessageStartingWith("entityId: 'vm-1'");
    assertThatThrownBy(() -> PageFrame.hostOf("host-9999999999"))
        .hasMessageStartingWith("entityId: 'host-9999999999' has 9999999999 out of range");
    PageFrame.Settings s = PageFrame.Settings.fromConfig(kit.system().settings().config());
    assertThat(s.leaseTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.notifierAckTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThatThrownBy(() -> new PageFrame.Settings(Duration.ZERO, Duration.ofSeconds(1), 1, 1, 1))
        .hasMessageStartingWith("leaseTimeout");
  }
}
