package org.mmumesh.shell;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The pure parts of the kit: entity ids, remembered replies, the core-call rule. */
class KitPartsTest {

  @Test
  void entityIds_roundTrip_andBadIdsNameTheFieldAndTheAllowedForm() {
    assertThat(EntityIds.hostOf(EntityIds.host(7))).isEqualTo(7);
    assertThat(EntityIds.vmOf(EntityIds.vm(Integer.MAX_VALUE))).isEqualTo(Integer.MAX_VALUE);
    assertThat(EntityIds.vcpu(3, 12, 4095)).isEqualTo("vm-3/vcpu-12");
    assertThat(EntityIds.vmAndVcpuOf("vm-3/vcpu-12", 4095)).containsExactly(3, 12);
    assertThatThrownBy(() -> EntityIds.hostOf("vm-1"))
        .hasMessageContaining("entityId: 'vm-1' is not allowed; allowed host-<h>");
    assertThatThrownBy(() -> EntityIds.vmOf("vm-2147483648"))
        .hasMessageContaining("entityId")
        .hasMessageContaining("allowed 0 to 2147483647");
    assertThatThrownBy(() -> EntityIds.vmAndVcpuOf("vm-1/vcpu-4096", 4095))
        .hasMessageContaining("allowed 0 to 4095");
    assertThatThrownBy(() -> EntityIds.vmOf(null)).hasMessageContaining("entityId: 'null'");
    assertThatThrownBy(() -> EntityIds.host(-1))
        .hasMessage("host: -1 is out of range; allowed 0 to 2147483647");
    assertThatThrownBy(() -> EntityIds.vcpu(0, 5000, 4095))
        .hasMessage("vcpu: 5000 is out of range; allowed 0 to 4095");
  }

  @Test
  void lastReplies_answerOnlyTheSameRequestIdOfTheSameRequester() {
    LastReplies<String> m = new LastReplies<>();
    long a = LastReplies.requester(1, 0);
    long b = LastReplies.requester(1, 1);
    assertThat(a).isNotEqualTo(b).isNotEqualTo(LastReplies.requester(0, 1));
    m.remember(a, 5, "five");
    assertThat(m.replayed(a, 5)).isEqualTo("five");
    assertThat(m.replayed(a, 6)).isNull();
    assertThat(m.replayed(b, 5)).isNull();
    m.remember(a, 6, "six");
    assertThat(m.replayed(a, 5)).isNull();
    assertThat(m.replayed(a, 6)).isEqualTo("six");
    assertThat(m.size()).isEqualTo(1);
  }

  @Test
  void recentReplies_forgetTheOldest_andReplaceKeepsTheAge() {
    RecentReplies<String, String> m = new RecentReplies<>(2);
    m.remember("a", "1");
    m.remember("b", "2");
    m.replace("a", "1'");
    m.replace("z", "never");
    assertThat(m.replayed("a")).isEqualTo("1'");
    assertThat(m.replayed("z")).isNull();
    m.remember("c", "3");
    assertThat(m.replayed("a")).isNull();
    assertThat(m.replayed("b")).isEqualTo("2");
    assertThat(m.replayed("c")).isEqualTo("3");
    assertThat(m.size()).isEqualTo(2);
    assertThatThrownBy(() -> new RecentReplies<String, String>(0))
        .hasMessage("capacity: 0 is out of range; allowed 1 or more");
  }

  @Test
  void attempt_badInputIsRejected_anythingElseFailed_resultOtherwise() {
    assertThat(
            Attempt.of(() -> 42).<String>fold(v -> "ok " + v, r -> "rejected " + r, e -> "failed"))
        .isEqualTo("ok 42");
    Attempt<Integer> bad =
        Attempt.of(
            () -> {
              throw new IllegalArgumentException("vm: 9 does not exist");
            });
    assertThat(bad.ok()).isFalse();
    assertThat(bad.<String>fold(v -> "ok", r -> "rejected " + r, e -> "failed"))
        .isEqualTo("rejected vm: 9 does not exist");
    Attempt<Void> broke =
        Attempt.run(
            () -> {
              throw new IllegalStateException("bug");
            });
    assertThat(broke.failure()).isInstanceOf(IllegalStateException.class);
    assertThat(broke.rejected()).isNull();
    assertThat(broke.<String>fold(v -> "ok", r -> "rejected", e -> "failed " + e.getMessage()))
        .isEqualTo("failed bug");
  }
}
