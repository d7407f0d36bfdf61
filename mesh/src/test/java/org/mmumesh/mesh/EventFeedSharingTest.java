package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.MeshEvent;

/**
 * The feed's cap on watchers per node and the sharing of one ring by the watchers with the same
 * filter ({@link EventGroup}), on a node whose cap is configured to 3.
 */
class EventFeedSharingTest {
  private static final ActorTestKit kit =
      ActorTestKit.create(
          ConfigFactory.parseString(EventFeed.MAX_WATCHERS_PATH + " = 3")
              .withFallback(ConfigFactory.load()));
  private static final Duration WAIT = Duration.ofSeconds(30);

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  private static MeshEvent fault(int vm, long ea) {
    return new MeshEvent(MeshEvent.Kind.FAULT, 0, vm, 0, ea, -1, -1, "NOHPTE load");
  }

  @Test
  void theCap_refusesTheNextWatcher_namingIt_andAClosedWatchersSlotIsFreeAgain() {
    EventFeed feed = EventFeed.get(kit.system());
    assertThat(feed.maxWatchers()).isEqualTo(3);
    EventSubscription a = feed.subscribe(MeshEvent.Filter.ALL, 8, null);
    EventSubscription b = feed.subscribe(MeshEvent.Filter.ALL, 8, null);
    EventSubscription c = feed.subscribe(new MeshEvent.Filter(Set.of(), -1, 4), 8, null);
    assertThat(feed.watchers()).isEqualTo(3);
    assertThatThrownBy(() -> feed.subscribe(MeshEvent.Filter.ALL, 8, null))
        .isInstanceOfSatisfying(
            SimulationException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SimulationException.Kind.LIMIT);
              assertThat(e.getMessage()).contains("cap of 3").contains(EventFeed.MAX_WATCHERS_PATH);
            });
    assertThat(feed.watchers()).as("a refusal takes no slot").isEqualTo(3);
    b.close();
    b.close(); // idempotent: frees one slot, not two
    assertThat(feed.watchers()).isEqualTo(2);
    EventSubscription d = feed.subscribe(MeshEvent.Filter.ALL, 8, null);
    assertThatThrownBy(() -> feed.subscribe(MeshEvent.Filter.ALL, 8, null))
        .isInstanceOf(SimulationException.class);
    a.close();
    c.close();
    d.close();
    assertThat(feed.watchers()).isZero();
  }

  @Test
  void watchersWithOneFilter_shareOneRing_eachWithItsOwnNumbersAndDrops() throws Exception {
    EventFeed feed = EventFeed.get(kit.system());
    EventSubscription reader = feed.subscribe(MeshEvent.Filter.ALL, 4, null);
    EventSubscription idle = feed.subscribe(MeshEvent.Filter.ALL, 4, null);
    EventSubscription other = feed.subscribe(MeshEvent.Filter.ALL, 5, null);
    try {
      assertThat(idle.group()).as("same filter, same size").isSameAs(reader.group());
      assertThat(other.group()).as("another size").isNotSameAs(reader.group());
      reader.attachedTo(1).toCompletableFuture().get(30, TimeUnit.SECONDS);
      // the node's bus has one entry for the shared group, however many watchers it has
      TestProbe<Object> probe = kit.createTestProbe();
      probe.awaitAssert(
          WAIT, () -> assertThat(feed.bus().watchers()).as("one per group").hasSize(2));
      for (int i = 1; i <= 3; i++) {
        feed.bus().publish(fault(1, i));
      }
      for (int i = 1; i <= 3; i++) {
        EventBacklog.Entry e = reader.poll();
        assertThat(e.event().ea()).isEqualTo(i);
        assertThat(e.sequence()).isEqualTo(i);
        assertThat(e.droppedBefore()).isZero();
      }
      assertThat(reader.poll()).isNull();
      for (int i = 4; i <= 10; i++) {
        feed.bus().publish(fault(1, i));
      }
      // the idle one lost the 6 oldest of 10 (a ring of 4), the reader only 3 of its 7 new ones
      assertThat(idle.dropped()).isEqualTo(6);
      assertThat(idle.waiting()).isEqualTo(4);
      EventBacklog.Entry e = idle.poll();
      assertThat(e.event().ea()).isEqualTo(7);
      assertThat(e.sequence()).isEqualTo(7);
      assertThat(e.droppedBefore()).isEqualTo(6);
      EventBacklog.Entry r = reader.poll();
      assertThat(r.event().ea()).isEqualTo(7);
      assertThat(r.sequence()).isEqualTo(7);
      assertThat(r.droppedBefore()).isEqualTo(3);
      // a member joining later starts at its own sequence 1 with the next event
      other.close(); // the node's cap is 3
      EventSubscription late = feed.subscribe(MeshEvent.Filter.ALL, 4, null);
      assertThat(late.group()).isSameAs(reader.group());
      assertThat(late.poll()).isNull();
      feed.bus().publish(fault(1, 11));
      EventBacklog.Entry l = late.poll();
      assertThat(l.event().ea()).isEqualTo(11);
      assertThat(l.sequence()).isEqualTo(1);
      late.close();
    } finally {
      reader.close();
      idle.close();
      other.close();
    }
  }
}
