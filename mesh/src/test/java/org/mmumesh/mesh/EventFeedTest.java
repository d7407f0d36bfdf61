package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.MeshEvent;
import org.mmumesh.common.MeshEventBus;

/**
 * The event feed on one actor system: the extension is started with the system, a subscription
 * activates the node's bus once attached, the filter applies at the publishing node, a slow
 * consumer loses the oldest events (counted) and closing deactivates the bus.
 */
class EventFeedTest {
  private static final ActorTestKit kit = ActorTestKit.create(ConfigFactory.load());
  private static final Duration WAIT = Duration.ofSeconds(20);

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  private static MeshEvent fault(int vm, long ea) {
    return new MeshEvent(MeshEvent.Kind.FAULT, 0, vm, 0, ea, -1, -1, "NOHPTE load");
  }

  /** Takes the next event, waiting for the subscription's wake-up when none is there. */
  private static EventBacklog.Entry next(EventSubscription s, Semaphore wake) throws Exception {
    for (; ; ) {
      EventBacklog.Entry e = s.poll();
      if (e != null) {
        return e;
      }
      assertThat(wake.tryAcquire(WAIT.toMillis(), TimeUnit.MILLISECONDS))
          .as("an event within " + WAIT)
          .isTrue();
    }
  }

  @Test
  void theFeedStartsWithTheSystem_andItsBusIsTheNodesBus() {
    assertThat(kit.system().hasExtension(EventFeed.Id.getInstance())).isTrue();
    EventFeed feed = EventFeed.get(kit.system());
    assertThat(feed.bus()).isSameAs(MeshEventBus.of(kit.system()));
    assertThat(EventFeed.forNode(kit.system().address())).containsSame(feed);
  }

  @Test
  void aSubscription_activatesTheBus_getsMatchingEvents_andClosingDeactivatesIt() throws Exception {
    EventFeed feed = EventFeed.get(kit.system());
    MeshEventBus bus = feed.bus();
    Semaphore wake = new Semaphore(0);
    EventSubscription s =
        feed.subscribe(new MeshEvent.Filter(Set.of(), MeshEvent.NONE, 3), 100, wake::release);
    assertThat(s.attachedTo(1).toCompletableFuture().get(20, TimeUnit.SECONDS))
        .containsExactly(feed.address());
    assertThat(bus.active()).isTrue();
    bus.publish(fault(2, 0x1000)); // filtered out at the source
    bus.publish(fault(3, 0x2000));
    EventBacklog.Entry e = next(s, wake);
    assertThat(e.event()).isEqualTo(fault(3, 0x2000));
    assertThat(e.sequence()).isEqualTo(1);
    assertThat(s.poll()).isNull();

    s.close();
    TestProbe<Object> probe = kit.createTestProbe();
    probe.awaitAssert(WAIT, () -> assertThat(bus.active()).isFalse());
  }

  @Test
  void aSlowConsumer_losesTheOldestEvents_countedInTheNextOnesDroppedBefore() throws Exception {
    EventFeed feed = EventFeed.get(kit.system());
    Semaphore wake = new Semaphore(0);
    EventSubscription s = feed.subscribe(MeshEvent.Filter.ALL, 4, wake::release);
    s.attachedTo(1).toCompletableFuture().get(20, TimeUnit.SECONDS);
    for (int i = 1; i <= 10; i++) {
      feed.bus().publish(fault(1, i));
    }
    TestProbe<Object> probe = kit.createTestProbe();
    probe.awaitAssert(WAIT, () -> assertThat(s.dropped()).isEqualTo(6));
    EventBacklog.Entry first = s.poll();
    assertThat(first.event().ea()).isEqualTo(7);
    assertThat(first.droppedBefore()).isEqualTo(6);
    assertThat(first.sequence()).isEqualTo(7);
    assertThat(s.waiting()).isEqualTo(3);
    s.close();
  }

  @Test
  void feedMessages_roundTripThroughCbor() {
    SerializationTestKit ser = new SerializationTestKit(kit.system());
    TestProbe<EventWatcher.Command> watcher = kit.createTestProbe();
    MeshEvent e = new MeshEvent(MeshEvent.Kind.MAP, 1, 2, 3, 0x10005000L, 0xAB, 77, "map ro");
    List<Object> msgs =
        List.of(
            e,
            new MeshEvent.Filter(Set.of(MeshEvent.Kind.MERGE, MeshEvent.Kind.COW_BREAK), 1, 2),
            MeshEvent.Filter.ALL,
            new EventFeedNode.Attach(watcher.ref(), new MeshEvent.Filter(Set.of(), -1, 5)),
            new EventFeedNode.Detach(watcher.ref()),
            new EventWatcher.Deliver(e),
            new EventWatcher.Attached("pekko://mmumesh-mesh@127.0.0.1:1"));
    for (Object m : msgs) {
      assertThat(ser.verifySerialization(m, false)).isEqualTo(m);
    }
  }
}
