package org.mmumesh.pageframe.actor;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.mmumesh.ksm.KsmFrameScanner;

/**
 * ksmd through Cluster Sharding on a single-node cluster: the KSM protocol reaches the PageFrame
 * entity {@code host-<h>} given {@link KsmFrameScanner#factory()}, each host its own ksmd.
 */
class KsmShardingTest {
  private static final ActorTestKit kit =
      ActorTestKit.create(
          "KsmShardingTest",
          ConfigFactory.parseString(
                  """
                  pekko.actor.provider = cluster
                  pekko.remote.artery.canonical.hostname = "127.0.0.1"
                  pekko.remote.artery.canonical.port = 0
                  pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                  """)
              .withFallback(ConfigFactory.load()));
  private static final Duration WAIT = Duration.ofSeconds(20);

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  @Test
  void ksmCommands_reachThePageFrameEntityOfTheirHost() {
    Cluster cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    ActorRef<ShardingEnvelope<PageFrame.Command>> frames =
        PageFrame.initSharding(
            kit.system(), PageFrame.Settings.defaults(), null, KsmFrameScanner.factory());

    TestProbe<PageFrame.VmReply> vm = kit.createTestProbe();
    frames.tell(
        new ShardingEnvelope<>(PageFrame.entityId(1), new PageFrame.CreateVm(1, 0, vm.getRef())));
    vm.expectMessage(WAIT, new PageFrame.VmCreated(1, 0));

    TestProbe<PageFrame.KsmReply> r = kit.createTestProbe();
    frames.tell(
        new ShardingEnvelope<>(
            PageFrame.entityId(1), new PageFrame.KsmMadvise(2, 0, 0, 8, true, r.getRef())));
    r.expectMessage(WAIT, new PageFrame.KsmControlDone(2));
    frames.tell(
        new ShardingEnvelope<>(
            PageFrame.entityId(1), new PageFrame.KsmSetPagesToScan(3, 7, r.getRef())));
    r.expectMessage(WAIT, new PageFrame.KsmControlDone(3));
    // host-2's PageFrame has no VM 0
    frames.tell(
        new ShardingEnvelope<>(
            PageFrame.entityId(2), new PageFrame.KsmMadvise(4, 0, 0, 8, true, r.getRef())));
    assertThat(r.expectMessageClass(PageFrame.Rejected.class, WAIT).reason()).startsWith("vm: 0");

    frames.tell(
        new ShardingEnvelope<>(PageFrame.entityId(1), new PageFrame.GetKsmCounters(5, r.getRef())));
    assertThat(r.expectMessageClass(PageFrame.KsmCounters.class, WAIT).counters())
        .containsEntry("pages_to_scan", 7L)
        .containsEntry("sleep_millisecs", 20L)
        .containsEntry("run", 0L);
    frames.tell(
        new ShardingEnvelope<>(PageFrame.entityId(2), new PageFrame.GetKsmCounters(6, r.getRef())));
    assertThat(r.expectMessageClass(PageFrame.KsmCounters.class, WAIT).counters())
        .containsEntry("pages_to_scan", 100L); // the kernel's default, each host its own
  }
}
