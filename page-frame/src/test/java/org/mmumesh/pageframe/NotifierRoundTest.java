package org.mmumesh.pageframe;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Acknowledgement counting of one MMU-notifier round (spec 5.7). */
class NotifierRoundTest {

  @Test
  void aliasedEventsWithOneSequence_needOneAckEach() {
    NotifierRound r = new NotifierRound(1);
    r.expect(0, 5); // gfn 0x101 through slot 1
    r.expect(0, 5); // the same host page through slot 2
    assertThat(r.ack(0, 5)).isTrue();
    assertThat(r.complete()).isFalse();
    assertThat(r.describeOwed()).isEqualTo("vm 0 seq 5 x1");
    assertThat(r.ack(0, 5)).isTrue();
    assertThat(r.complete()).isTrue();
  }

  @Test
  void lateDuplicateOrForeignAcks_areIgnored() {
    NotifierRound r = new NotifierRound(2);
    r.expect(1, 9);
    assertThat(r.ack(0, 9)).isFalse();
    assertThat(r.ack(1, 8)).isFalse();
    assertThat(r.outstanding()).isEqualTo(1);
    assertThat(r.ack(1, 9)).isTrue();
    assertThat(r.ack(1, 9)).isFalse();
    assertThat(r.complete()).isTrue();
  }
}
