package org.mmumesh.engine;

import org.mmumesh.guestmmu.GuestKernel;
import org.mmumesh.guestmmu.GuestMmuPort;
import org.mmumesh.hostmmu.HostMmuCore;
import org.mmumesh.vcpu.CBitWatch;

/**
 * One VM in the sequential engine: its guest MMU, host MMU, guest kernel model and counters.
 *
 * <p>{@code epoch} counts every event that removed a host HPTE of this VM (the HostMmu actor's
 * rule: a flush, unmap or map that removed nothing leaves it); vCPU TLB entries stamped with an
 * older epoch are dead, so no TLB hit outlives its host HPTE.
 */
final class VmRuntime {
  final int id;
  final GuestMmuPort guest;
  final HostMmuCore host;
  final VmStats stats = new VmStats();
  final long windowBase;
  final long windowPages;
  final long memoryPages;
  final boolean notifierFullFlush;

  /** Effective pages mapped read/write in the host while their guest C bit was clear (Q4). */
  final CBitWatch cWatch = new CBitWatch();

  GuestKernel kernel;
  VcpuRuntime[] vcpus;
  long epoch;

  VmRuntime(
      int id,
      GuestMmuPort guest,
      HostMmuCore host,
      long windowBase,
      long windowPages,
      long memoryPages,
      boolean notifierFullFlush) {
    this.id = id;
    this.guest = guest;
    this.host = host;
    this.windowBase = windowBase;
    this.windowPages = windowPages;
    this.memoryPages = memoryPages;
    this.notifierFullFlush = notifierFullFlush;
  }
}
