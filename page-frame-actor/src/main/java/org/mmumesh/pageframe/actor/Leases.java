package org.mmumesh.pageframe.actor;

import it.unimi.dsi.fastutil.longs.Long2ObjectLinkedOpenHashMap;
import java.time.Duration;
import java.util.function.Consumer;
import org.mmumesh.pageframe.FaultPageRefs;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.pageframe.PfnResult;
import org.mmumesh.pageframe.ShellCounter;
import org.mmumesh.shell.DeadlineTicks;
import org.slf4j.Logger;

/**
 * The memslot read leases the {@link PageFrame} hands out with {@code gfn_to_pfn_prot} answers
 * (spec 8.8 TV61): {@code lease id -> vm, vCPU, core token, deadline}, in grant order, which is
 * also their expiry order.
 *
 * <p>Every {@link FaultProtocol.GfnToPfnProt} that is answered {@link FaultProtocol.PfnAnswered}
 * (whatever its status, NOSLOT included) took a lease ({@code srcu_read_lock}) before the lookup;
 * the caller MUST send {@link FaultProtocol.ReleaseLease} with the answer's {@code lease} once it
 * has mapped the page (or given up). Rejections and failures hold no lease. A memslot removal's
 * completion waits until every lease taken on an older generation was released ({@code
 * synchronize_srcu}). A lease not released within {@link PageFrame.Settings#leaseTimeout()} is
 * released here, logged (warning, with the vm and vCPU) and counted ({@code LEASES_EXPIRED}), so a
 * crashed vCPU cannot hold a memslot update back for ever. Releasing an unknown or already released
 * lease is harmless (counted {@code LEASE_RELEASES_UNKNOWN}). Lease ids are this shell's own (the
 * core's token is a generation shared by many leases) and never repeat within an incarnation.
 *
 * <p><b>The page reference.</b> A lease also holds the answer's page reference ({@link
 * FaultPageRefs}, KVM's reference from {@code gfn_to_pfn_prot}): while it is held ksmd's {@code
 * write_protect_page} fails on the frame (mm/ksm.c's page-count check) and the merge is retried on
 * a later pass. Releasing or expiring the lease drops the reference.
 *
 * <p><b>Expiry by one tick</b> ({@link DeadlineTicks}, period {@link
 * PageFrame.Settings#leaseTick()}): a lease expires after at least {@code leaseTimeout} and at most
 * {@code leaseTimeout + leaseTick}; each tick expires a prefix of the grant order.
 */
final class Leases {
  /** A lease handed out; {@code deadline}: the tick at which it is released. */
  private record HeldLease(int vm, int vcpu, long token, long deadline) {}

  private final PageFrames core;
  private final FaultPageRefs pageRefs;
  private final DeadlineTicks<PageFrame.Command> ticks;
  private final Duration leaseTimeout;
  private final Consumer<ShellCounter> count;
  private final Logger log;
  private final Long2ObjectLinkedOpenHashMap<HeldLease> held = new Long2ObjectLinkedOpenHashMap<>();
  private long nextLease = 1;

  Leases(
      PageFrames core,
      DeadlineTicks<PageFrame.Command> ticks,
      Duration leaseTimeout,
      Consumer<ShellCounter> count,
      Logger log) {
    this.core = core;
    this.pageRefs = new FaultPageRefs(core);
    this.ticks = ticks;
    this.leaseTimeout = leaseTimeout;
    this.count = count;
    this.log = log;
  }

  /** Records the lease of core token {@code token} behind {@code result}; returns its id. */
  long grant(int vm, int vcpu, long token, PfnResult result) {
    long lease = nextLease++;
    held.put(lease, new HeldLease(vm, vcpu, token, ticks.deadline()));
    pageRefs.take(lease, result);
    count.accept(ShellCounter.LEASES_GRANTED);
    return lease;
  }

  /** {@code srcu_read_unlock} of lease {@code lease} of VM {@code vm}, if held. */
  void release(int vm, long lease) {
    HeldLease h = held.get(lease);
    if (h == null || h.vm() != vm) {
      count.accept(ShellCounter.LEASE_RELEASES_UNKNOWN);
      log.debug("ReleaseLease of lease {} on vm {}: not held", lease, vm);
      return;
    }
    held.remove(lease);
    count.accept(ShellCounter.LEASES_RELEASED);
    pageRefs.release(lease);
    core.leaseRelease(h.vm(), h.token());
  }

  /** One lease tick: expires the leases due (a prefix); stops the tick when none is held. */
  void tick() {
    ticks.tick();
    while (!held.isEmpty()) {
      long lease = held.firstLongKey();
      HeldLease h = held.get(lease);
      if (!ticks.expired(h.deadline())) {
        break;
      }
      held.removeFirst();
      pageRefs.release(lease);
      count.accept(ShellCounter.LEASES_EXPIRED);
      log.warn(
          "lease {} of vm {} vcpu {} not released within {}: released now (a memslot update"
              + " may have waited for it)",
          lease,
          h.vm(),
          h.vcpu(),
          leaseTimeout);
      core.leaseRelease(h.vm(), h.token());
    }
    if (held.isEmpty()) {
      ticks.stop();
    }
  }
}
