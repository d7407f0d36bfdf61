package org.mmumesh.engine;

import java.util.ArrayList;
import java.util.List;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.common.Quirk;
import org.mmumesh.hostmmu.HostMmuCore;
import org.mmumesh.hostmmu.HpteCacheEntry;
import org.mmumesh.hostmmu.InvariantReport;
import org.mmumesh.hostmmu.Lookup;
import org.mmumesh.ksm.KsmScanner;
import org.mmumesh.pageframe.PageFrames;

/**
 * The run-time checker of architecture section 5 ({@code --check-invariants}), run after every
 * fault. It throws {@link IllegalStateException} naming every violation, so a broken run stops
 * where it broke.
 *
 * <ol>
 *   <li>Isolation: every shadow entry maps the frame its gfn's host PTE maps now, and a writable
 *       one maps an exclusive frame (not KSM, not the zero page, one mapping). vCPUs with a pending
 *       KVM_REQ_TLB_FLUSH are exempt until their next guest entry, as in the kernel (spec 5.7).
 *   <li>C bit: under {@code fixed} and {@code strict} no access but a store sets C; under {@code
 *       strict} no store completes with C clear. Checked at the end of a run from the counters
 *       ({@link #checkCBits}); {@code legacy}'s spurious C bits are counted, not refused.
 *   <li>KSM counters obey the kernel's definitions (spec 7.5).
 *   <li>One live shadow entry per (vCPU, vpage); the host MMU's own consistency checks.
 *   <li>SRCU: no memslot lease is still held once a fault is over.
 *   <li>Page-frame bookkeeping: map counts and savings counters equal a recount.
 * </ol>
 */
final class InvariantChecker {
  private final PageFrames frames;
  private final KsmScanner ksm;
  private final VmRuntime[] vms;
  private long checks;

  InvariantChecker(PageFrames frames, KsmScanner ksm, VmRuntime[] vms) {
    this.frames = frames;
    this.ksm = ksm;
    this.vms = vms;
  }

  long checks() {
    return checks;
  }

  /** Invariant 2 (architecture section 5), from a run's counters. */
  void checkCBits(MmuOptions options, VmStats totals) {
    List<String> bad = new ArrayList<>();
    if (options.policy() != Policy.LEGACY && totals.get(Stat.SPURIOUS_C) != 0) {
      bad.add(totals.get(Stat.SPURIOUS_C) + " C bits set by accesses that were not stores");
    }
    if (!options.has(Quirk.Q4_C_CAN_BE_MISSED) && totals.get(Stat.MISSED_C) != 0) {
      bad.add(totals.get(Stat.MISSED_C) + " stores completed with the guest C bit clear");
    }
    checks++;
    if (!bad.isEmpty()) {
      throw new IllegalStateException(
          "invariant violated (C bit, " + options.describe() + "): " + String.join("; ", bad));
    }
  }

  void check(long simNanos) {
    checks++;
    List<String> bad = new ArrayList<>();
    for (VmRuntime vm : vms) {
      HostMmuCore host = vm.host;
      InvariantReport rep = host.checkInvariants();
      if (!rep.ok()) {
        bad.add("vm " + vm.id + " host MMU: " + rep.violations());
      }
      if (frames.leasesHeld(vm.id) != 0) {
        bad.add("vm " + vm.id + ": " + frames.leasesHeld(vm.id) + " memslot leases still held");
      }
      for (VcpuRuntime v : vm.vcpus) {
        if (v.pendingFlush) {
          continue;
        }
        for (HpteCacheEntry e : host.cache(v.index).entries()) {
          if (host.htab().ownerAt(e.slot()) != HostMmuCore.ownerToken(v.index, e.index())) {
            continue; // displaced by Q5 (a stale record): no live host HPTE behind it
          }
          long gfn = e.pte().gfn();
          int now = frames.ptePfn(vm.id, gfn);
          if (now != e.pfn()) {
            bad.add(
                String.format(
                    "vm %d vcpu %d: shadow entry for gfn 0x%x maps pfn %d but the host PTE maps %d",
                    vm.id, v.index, gfn, e.pfn(), now));
          }
          Lookup prot = host.protectionOf(e.slot());
          int pfn = (int) e.pfn();
          if (prot.isWritable()
              && (frames.isKsmPage(pfn)
                  || frames.isZeroPage(pfn)
                  || frames.frameMapCount(pfn) != 1)) {
            bad.add(
                String.format(
                    "vm %d vcpu %d: writable shadow entry for gfn 0x%x maps shared pfn %d",
                    vm.id, v.index, gfn, pfn));
          }
        }
      }
    }
    bad.addAll(ksm.counterViolations());
    bad.addAll(frames.invariantViolations());
    if (!bad.isEmpty()) {
      throw new IllegalStateException(
          "invariant violated at simulated time " + simNanos + " ns: " + String.join("; ", bad));
    }
  }
}
