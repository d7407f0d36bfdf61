package org.mmumesh.hostmmu;

import java.util.Arrays;

/**
 * One TLB shootdown in flight: the simulated {@code tlbie; tlbsync} that must complete before the
 * host MMU acknowledges a command that removed host HPTEs (architecture section 4, "Invalidation").
 * It records the epoch announced and which vCPUs have not acknowledged it yet.
 *
 * <p>Pure state, no actor imports: the {@code HostMmu} actor sends the messages and runs the
 * timeout. An acknowledgement counts if it names an awaited vCPU and an epoch at least the round's
 * (a vCPU that already saw a newer epoch has flushed everything older). A vCPU whose subscription
 * ends (its actor stopped) is abandoned: nothing is left to flush.
 */
public final class ShootdownRound {
  private final long epoch;
  private final boolean[] awaited;
  private int outstanding;

  /**
   * @param epoch the epoch announced
   * @param vcpus the number of vCPUs of the VM (the awaited set starts empty)
   */
  public ShootdownRound(long epoch, int vcpus) {
    this.epoch = epoch;
    this.awaited = new boolean[vcpus];
  }

  /** The epoch announced. */
  public long epoch() {
    return epoch;
  }

  /** Adds {@code vcpu} to the vCPUs whose acknowledgement the round waits for. */
  public void await(int vcpu) {
    if (!awaited[vcpu]) {
      awaited[vcpu] = true;
      outstanding++;
    }
  }

  /**
   * An acknowledgement from {@code vcpu} for {@code ackEpoch}. Returns true if it counted (the vCPU
   * was awaited and the epoch is this round's or newer); anything else is ignored.
   */
  public boolean ack(int vcpu, long ackEpoch) {
    if (vcpu < 0 || vcpu >= awaited.length || ackEpoch < epoch || !awaited[vcpu]) {
      return false;
    }
    awaited[vcpu] = false;
    outstanding--;
    return true;
  }

  /** Stops waiting for {@code vcpu} (its subscription ended). Returns true if it was awaited. */
  public boolean abandon(int vcpu) {
    return ack(vcpu, epoch);
  }

  /** True when no acknowledgement is outstanding. */
  public boolean complete() {
    return outstanding == 0;
  }

  /** The vCPUs that have not acknowledged yet, ascending. */
  public int[] outstandingVcpus() {
    int[] r = new int[outstanding];
    int n = 0;
    for (int v = 0; v < awaited.length; v++) {
      if (awaited[v]) {
        r[n++] = v;
      }
    }
    return Arrays.copyOf(r, n);
  }
}
