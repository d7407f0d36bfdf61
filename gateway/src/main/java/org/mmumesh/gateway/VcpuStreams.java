package org.mmumesh.gateway;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The vCPUs a workload stream runs on, in this gateway: at most one stream per vCPU ({@code
 * AccessService.RunWorkload}); single accesses and {@code DeleteVm} refuse a vCPU (VM) with a
 * stream (FAILED_PRECONDITION). Thread-safe.
 */
public final class VcpuStreams {
  private final Set<Long> busy = ConcurrentHashMap.newKeySet();

  private static long key(int vm, int vcpu) {
    return ((long) vm << 32) | Integer.toUnsignedLong(vcpu);
  }

  /** Claims {@code vm}/{@code vcpu} for a stream; WRONG_STATE when another stream has it. */
  void claim(int vm, int vcpu) {
    if (!busy.add(key(vm, vcpu))) {
      throw GatewayException.wrongState(
          "vm " + vm + " vcpu " + vcpu + ": a workload stream already runs on it (one per vCPU)");
    }
  }

  /** Releases a claim (idempotent). */
  void release(int vm, int vcpu) {
    busy.remove(key(vm, vcpu));
  }

  /** WRONG_STATE when a stream runs on {@code vm}/{@code vcpu}. */
  void checkFree(int vm, int vcpu) {
    if (busy.contains(key(vm, vcpu))) {
      throw GatewayException.wrongState(
          "vm " + vm + " vcpu " + vcpu + ": a workload stream runs on it; finish it first");
    }
  }

  /** WRONG_STATE when a stream runs on any vCPU of {@code vm}. */
  void checkVmFree(int vm) {
    for (long k : busy) {
      if ((int) (k >>> 32) == vm) {
        throw GatewayException.wrongState(
            "vm " + vm + ": a workload stream runs on vcpu " + (int) k + "; finish it first");
      }
    }
  }
}
