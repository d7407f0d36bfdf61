package org.mmumesh.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mmumesh.engine.LockstepSchedule.Due;
import org.mmumesh.engine.LockstepSchedule.Lane;

/** The lockstep schedule's decisions: the order of vCPUs in a round, ksmd batches and samples. */
class LockstepScheduleTest {

  @Test
  void round_runsVmAfterVm_eachVmsVcpusInIndexOrder() {
    LockstepSchedule s = new LockstepSchedule(2, 3, 20, 1_000);
    assertThat(s.round())
        .containsExactly(
            new Lane(0, 0),
            new Lane(0, 1),
            new Lane(0, 2),
            new Lane(1, 0),
            new Lane(1, 1),
            new Lane(1, 2));
  }

  @Test
  void steps_holdVcpuSOfEveryVm_andKeepEachVmsIndexOrder() {
    LockstepSchedule s = new LockstepSchedule(3, 2, 20, 1_000);
    assertThat(s.steps())
        .containsExactly(
            List.of(new Lane(0, 0), new Lane(1, 0), new Lane(2, 0)),
            List.of(new Lane(0, 1), new Lane(1, 1), new Lane(2, 1)));
  }

  @Test
  void stepsFlattenedPerVm_equalTheReferenceRoundPerVm() {
    LockstepSchedule s = new LockstepSchedule(3, 4, 20, 1_000);
    s.finished(new Lane(1, 2));
    s.finished(new Lane(2, 0));
    List<Lane> fromSteps = new ArrayList<>();
    s.steps().forEach(fromSteps::addAll);
    for (int vm = 0; vm < 3; vm++) {
      int v = vm;
      assertThat(fromSteps.stream().filter(l -> l.vm() == v).toList())
          .as("vm %d", vm)
          .isEqualTo(s.round().stream().filter(l -> l.vm() == v).toList());
    }
  }

  @Test
  void finishedLanes_leaveTheRoundAndTheSteps_andTheRunEndsWhenNoneIsLeft() {
    LockstepSchedule s = new LockstepSchedule(2, 2, 20, 1_000);
    s.finished(new Lane(0, 1));
    s.finished(new Lane(0, 1)); // twice is once
    s.finished(new Lane(1, 1));
    assertThat(s.runs(new Lane(0, 1))).isFalse();
    assertThat(s.runs(new Lane(0, 0))).isTrue();
    assertThat(s.round()).containsExactly(new Lane(0, 0), new Lane(1, 0));
    assertThat(s.steps()).containsExactly(List.of(new Lane(0, 0), new Lane(1, 0)));
    assertThat(s.active()).isTrue();
    s.finished(new Lane(0, 0));
    s.finished(new Lane(1, 0));
    assertThat(s.active()).isFalse();
    assertThat(s.round()).isEmpty();
    assertThat(s.steps()).isEmpty();
  }

  @Test
  void endRound_runsTheFirstKsmBatchAtOnce_thenOnePerSleepMillisecs() {
    LockstepSchedule s = new LockstepSchedule(1, 1, 2, 1_000_000_000L);
    assertThat(s.endRound(0)).isEqualTo(new Due(1, 0)); // run became 1 at time 0
    assertThat(s.endRound(1_999_999)).isEqualTo(new Due(0, 0));
    assertThat(s.endRound(2_000_000)).isEqualTo(new Due(1, 0));
    assertThat(s.endRound(9_000_000)).as("4 ms and 6 ms and 8 ms").isEqualTo(new Due(3, 0));
    assertThat(s.nextKsmNanos()).isEqualTo(10_000_000);
    assertThat(s.rounds()).isEqualTo(4);
  }

  @Test
  void endRound_dueSamples_onePerIntervalReached() {
    LockstepSchedule s = new LockstepSchedule(1, 1, 60_000, 50_000);
    assertThat(s.endRound(49_999).samples()).isZero();
    assertThat(s.endRound(50_000).samples()).isEqualTo(1);
    assertThat(s.endRound(250_001).samples()).as("100, 150, 200, 250 us").isEqualTo(4);
    assertThat(s.endRound(250_002).samples()).isZero();
  }

  @Test
  void endRound_refusesAClockGoingBackwards_namingIt() {
    LockstepSchedule s = new LockstepSchedule(1, 1, 20, 1_000);
    s.endRound(5_000);
    assertThatThrownBy(() -> s.endRound(4_999))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("clockNanos");
  }

  @Test
  void constructor_refusesOutOfRangeArguments_namingTheField() {
    assertThatThrownBy(() -> new LockstepSchedule(0, 1, 20, 1_000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("vms");
    assertThatThrownBy(() -> new LockstepSchedule(1, 0, 20, 1_000))
        .hasMessageContaining("vcpusPerVm");
    assertThatThrownBy(() -> new LockstepSchedule(1, 1, 0, 1_000))
        .hasMessageContaining("ksmSleepMillisecs");
    assertThatThrownBy(() -> new LockstepSchedule(1, 1, 20, 0))
        .hasMessageContaining("sampleIntervalNanos");
  }
}
