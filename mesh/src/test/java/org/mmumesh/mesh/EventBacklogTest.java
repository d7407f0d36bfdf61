package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.mmumesh.common.MeshEvent;

class EventBacklogTest {

  private static MeshEvent ev(long ea) {
    return new MeshEvent(MeshEvent.Kind.FAULT, 0, 1, 0, ea, -1, -1, "NOHPTE load");
  }

  @Test
  void underCapacity_everyEventComesOutInOrder_withoutDrops() {
    EventBacklog b = new EventBacklog(4);
    assertThat(b.offer(ev(1))).isTrue(); // was empty: wake the consumer
    assertThat(b.offer(ev(2))).isFalse();
    assertThat(b.poll()).isEqualTo(new EventBacklog.Entry(ev(1), 1, 0));
    assertThat(b.poll()).isEqualTo(new EventBacklog.Entry(ev(2), 2, 0));
    assertThat(b.poll()).isNull();
    assertThat(b.dropped()).isZero();
  }

  @Test
  void overCapacity_dropsTheOldest_andTheNextEventTakenCarriesTheCount() {
    EventBacklog b = new EventBacklog(3);
    for (int i = 1; i <= 10; i++) {
      b.offer(ev(i));
    }
    assertThat(b.size()).isEqualTo(3);
    assertThat(b.dropped()).isEqualTo(7);
    assertThat(b.poll()).isEqualTo(new EventBacklog.Entry(ev(8), 8, 7));
    assertThat(b.poll()).isEqualTo(new EventBacklog.Entry(ev(9), 9, 0));
    // more drops after some were taken are charged to the next one only
    b.offer(ev(11));
    b.offer(ev(12));
    b.offer(ev(13)); // drops 10
    assertThat(b.poll()).isEqualTo(new EventBacklog.Entry(ev(11), 11, 1));
    assertThat(b.poll().droppedBefore()).isZero();
    assertThat(b.poll()).isEqualTo(new EventBacklog.Entry(ev(13), 13, 0));
    assertThat(b.offered()).isEqualTo(13);
    assertThat(b.dropped()).isEqualTo(8);
  }

  @Test
  void sequenceGaps_equalTheDropCounts_overAManyWrapRun() {
    EventBacklog b = new EventBacklog(5);
    long lastSeq = 0;
    long droppedSeen = 0;
    long taken = 0;
    for (int i = 1; i <= 1000; i++) {
      b.offer(ev(i));
      if (i % 7 == 0) { // a consumer slower than the producer
        EventBacklog.Entry e = b.poll();
        assertThat(e.sequence() - lastSeq - 1).isEqualTo(e.droppedBefore());
        droppedSeen += e.droppedBefore();
        lastSeq = e.sequence();
        taken++;
      }
    }
    EventBacklog.Entry e;
    while ((e = b.poll()) != null) {
      droppedSeen += e.droppedBefore();
      taken++;
    }
    assertThat(droppedSeen).isEqualTo(b.dropped());
    assertThat(taken + b.dropped()).isEqualTo(1000);
  }

  @Test
  void capacity_outOfRange_isRejectedNamingTheField() {
    assertThatThrownBy(() -> new EventBacklog(0)).hasMessageContaining("capacity");
  }
}
