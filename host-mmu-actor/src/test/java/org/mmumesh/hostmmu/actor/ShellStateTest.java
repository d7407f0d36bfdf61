package org.mmumesh.hostmmu.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.mmumesh.hostmmu.MapResult;
import org.mmumesh.hostmmu.MmuNotifierGuard;
import org.mmumesh.hostmmu.ShootdownRound;
import org.mmumesh.shell.LastReplies;

/** The pure pieces of the actor shell: the retry guard, the shootdown round, the reply memory. */
class ShellStateTest {

  @Test
  void guard_refusesOnlyMapsOlderThanTheLatestInvalidation() {
    MmuNotifierGuard g = new MmuNotifierGuard();
    assertThat(g.mayInstall(0)).isTrue();
    g.noteInvalidation(5);
    g.noteInvalidation(3); // late or repeated: no effect
    assertThat(g.latestSeq()).isEqualTo(5);
    assertThat(g.mayInstall(4)).isFalse();
    assertThat(g.mayInstall(5)).isTrue();
    assertThat(g.mayInstall(6)).isTrue();
    assertThat(g.mayInstall(-1)).isTrue();
  }

  @Test
  void round_completesWhenEveryAwaitedVcpuAcked_withItsEpochOrNewer() {
    ShootdownRound r = new ShootdownRound(10, 4);
    r.await(1);
    r.await(3);
    r.await(3);
    assertThat(r.outstandingVcpus()).containsExactly(1, 3);
    assertThat(r.ack(1, 9)).isFalse(); // stale epoch
    assertThat(r.ack(0, 10)).isFalse(); // not awaited
    assertThat(r.ack(7, 10)).isFalse(); // out of range
    assertThat(r.ack(1, 11)).isTrue();
    assertThat(r.ack(1, 11)).isFalse(); // duplicate
    assertThat(r.complete()).isFalse();
    assertThat(r.abandon(3)).isTrue();
    assertThat(r.complete()).isTrue();
    assertThat(r.outstandingVcpus()).isEmpty();
  }

  @Test
  void replyMemory_answersOnlyTheLastRequestOfAVcpu() {
    // HostMmu's retry memory is the shell kit's LastReplies, keyed by vCPU (ReplyMemory before).
    LastReplies<String> m = new LastReplies<>();
    assertThat(m.replayed(0, Long.MIN_VALUE)).isNull();
    m.remember(0, 5, "five");
    assertThat(m.replayed(0, 5)).isEqualTo("five");
    assertThat(m.replayed(1, 5)).isNull();
    m.remember(0, 6, "six");
    assertThat(m.replayed(0, 5)).isNull();
    assertThat(m.replayed(0, 6)).isEqualTo("six");
  }

  @Test
  void mapResult_removedHptes_onEvictionOrFullFlush() {
    assertThat(new MapResult(1, 2, 3, 4, true, false, false, 0, false, false, false).removedHptes())
        .isFalse();
    assertThat(new MapResult(1, 2, 3, 4, true, false, false, 1, false, false, false).removedHptes())
        .isTrue();
    assertThat(new MapResult(1, 2, 3, 4, true, false, false, 0, false, true, false).removedHptes())
        .isTrue();
    assertThat(new MapResult(1, 2, 3, 4, true, false, false, 0, false, false, true).removedHptes())
        .isTrue();
  }

  @Test
  void settings_rejectBadValues_namingTheField() {
    assertThatThrownBy(() -> new HostMmu.Settings(java.time.Duration.ZERO, 4))
        .hasMessageStartingWith("shootdownTimeout");
    assertThatThrownBy(() -> new HostMmu.Settings(java.time.Duration.ofSeconds(1), 0))
        .hasMessageStartingWith("stashCapacity: 0");
  }
}
