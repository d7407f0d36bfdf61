package org.mmumesh.ksm.actor;

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
import org.mmumesh.ksm.KsmFrameScanner;
import org.mmumesh.pageframe.actor.PageFrame;

/** The Ksm entity on a single-node cluster drives the PageFrame entity of its host. */
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
                  mmumesh.ksm.pages-to-scan = 7
                  """)
              .withFallback(ConfigFactory.load()));
  private static final Duration WAIT = Duration.ofSeconds(20);

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  @Test
  void ksmEntity_reachesThePageFrameEntityOfItsHost() {
    Cluster cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    ActorRef<ShardingEnvelope<PageFrame.Command>> frames =
        PageFrame.initSharding(
            kit.system(), PageFrame.Settings.defaults(), null, KsmFrameScanner.factory());
    ActorRef<ShardingEnvelope<Ksm.Command>> ksm = Ksm.initSharding(kit.system(), frames);

    TestProbe<PageFrame.VmReply> vm = kit.createTestProbe();
    frames.tell(
        new ShardingEnvelope<>(PageFrame.entityId(1), new PageFrame.CreateVm(1, 0, vm.getRef())));
    vm.expectMessage(WAIT, new PageFrame.VmCreated(1, 0));

    TestProbe<Ksm.ControlReply> r = kit.createTestProbe();
    ksm.tell(
        new ShardingEnvelope<>(Ksm.entityId(1), new Ksm.Madvise(2, 0, 0, 8, true, r.getRef())));
    r.expectMessage(WAIT, new Ksm.ControlDone(2));
    // host-2's PageFrame has no VM 0
    ksm.tell(
        new ShardingEnvelope<>(Ksm.entityId(2), new Ksm.Madvise(3, 0, 0, 8, true, r.getRef())));
    assertThat(r.expectMessageClass(Ksm.Rejected.class, WAIT).reason()).startsWith("vm: 0");

    TestProbe<Ksm.CountersReply> c = kit.createTestProbe();
    ksm.tell(new ShardingEnvelope<>(Ksm.entityId(1), new Ksm.GetCounters(4, c.getRef())));
    assertThat(c.expectMessageClass(Ksm.Counters.class, WAIT).counters())
        .containsEntry("pages_to_scan", 7L)
        .containsEntry("run", 0L);
  }

  @Test
  void entityIds_andSettingsFromConfig() {
    assertThat(Ksm.hostOf(Ksm.entityId(3))).isEqualTo(3);
    assertThatThrownBy(() -> Ksm.hostOf("vm-1")).hasMessageStartingWith("entityId: 'vm-1'");
    Ksm.Settings s = Ksm.Settings.fromConfig(kit.system().settings().config());
    assertThat(s.pagesToScan()).isEqualTo(7);
    assertThat(s.sleepMillisecs()).isEqualTo(20);
    assertThatThrownBy(
            () -> new Ksm.Settings(1, 0, Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 1, 1))
        .hasMessage("sleepMillisecs: 0 is out of range; allowed 1 to 4294967295");
  }
}
