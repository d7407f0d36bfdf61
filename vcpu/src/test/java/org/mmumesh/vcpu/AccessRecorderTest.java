package org.mmumesh.vcpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.AccessTrace;
import org.mmumesh.guestmmu.XlateStatus;

/**
 * The recorder writes the guest MMU's xlate status into the trace (module common's {@link
 * AccessTrace}, which the {@code Simulation} port answers as is) constant for constant.
 */
class AccessRecorderTest {

  @Test
  void status_mapsEveryGuestMmuConstantToADistinctTraceConstantOfTheSameName() {
    Set<AccessTrace.XlateStatus> seen = EnumSet.noneOf(AccessTrace.XlateStatus.class);
    for (XlateStatus s : XlateStatus.values()) {
      AccessTrace.XlateStatus t = AccessRecorder.status(s);
      assertThat(t.name()).isEqualTo(s.name());
      seen.add(t);
    }
    assertThat(seen).containsExactlyInAnyOrder(AccessTrace.XlateStatus.values());
  }

  @Test
  void aTlbHit_tracesNoFaultAndNoGuestRealAddress() {
    AccessRecorder r = new AccessRecorder();
    r.tlbHit(7);
    r.loadedValue(99);
    r.completed();

    AccessTrace t = r.build();

    assertThat(t.tlbHit()).isTrue();
    assertThat(t.faults()).isEmpty();
    assertThat(t.hostPfn()).isEqualTo(7);
    assertThat(t.guestRealAddr()).isEqualTo(-1);
    assertThat(t.loadedValue()).isEqualTo(99);
    assertThat(t.failure()).isNull();
    assertThat(t.rcBefore()).isNull();
  }
}
