package org.mmumesh.engine;

import it.unimi.dsi.fastutil.longs.LongOpenHashSet;
import org.mmumesh.guestmmu.GuestKernel;
import org.mmumesh.guestmmu.GuestMmuPort;
import org.mmumesh.hostmmu.HostMmuCore;

/**
 * One VM in the sequential engine: its guest MMU, host MMU, guest kernel model and counters.
 *
 * <p>{@code epoch} counts every event that may have removed a host HPTE of this VM; vCPU TLB
 * entries stamped with an older epoch are dead, so no TLB hit outlives its host HPTE.
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
  final LongOpenHashSet cWatch = new LongOpenHashSet();

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
