package org.mmumesh.engine;

import java.util.ArrayList;
import java.util.List;
import org.mmumesh.common.Counter;
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
 * fault and every KSM step. It throws {@link IllegalStateException} naming every violation, so a
 * broken run stops where it broke.
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
 *
 * <h2>Incremental checks, and a full one at the end</h2>
 *
 * <p>A full check of 1, 3, 4 and 6 walks every frame, PTE, rmap_item, HTAB slot and shadow entry;
 * after every fault that made a run quadratic in its memory. So {@link #check} (after every event)
 * is incremental: each core's audit re-checks what changed since the previous check ({@link
 * HostMmuCore#checkInvariantsIncremental}, {@link KsmScanner#counterViolationsIncremental}, {@link
 * PageFrames#invariantViolationsIncremental}; each one's Javadoc says exactly what it covers), and
 * every counter is compared with its recount at every check. Isolation (1) is checked for every
 * shadow entry the host audit reports changed, then kept in indexes. A valid entry can only become
 * wrong when its gfn's host PTE changes (it then maps another frame) or when its writable frame
 * becomes shared (the frame's map count or KSM flag changes). For the first, the page-frame audit
 * reports every changed host PTE: under quirk Q8 that invalidation must have left every vCPU of the
 * VM with a flush pending (which exempts all their entries), which is checked; otherwise the
 * entries filed under that (gfn, VM) are re-checked. For the second, the audit reports every
 * changed frame, and the writable entries filed under it are re-checked), so the indexes find every
 * entry a change concerns. Lease counts (5) are read at every check. {@link #checkFull} (at the end
 * of a run) is the full check: it finds what the incremental ones cannot (state changed behind the
 * cores' methods, such as memory corruption, on elements nothing touched since).
 */
final class InvariantChecker {
  private final PageFrames frames;
  private final KsmScanner ksm;
  private final VmRuntime[] vms;
  // Live shadow entries as tokens (vm << 32 | vcpu << 16 | entry): those of VMs without Q8 by
  // (gfn << 16 | vm), the writable ones by host frame.
  private final HostMmuCore.EntryVisitor[] visitors;
  private final EntryIndex byGfn = new EntryIndex((t, key) -> gfnOf(t) == (key >>> 16));
  private final EntryIndex writableByFrame = new EntryIndex((t, key) -> pfnOf(t) == key);
  private final PageFrames.AuditListener touched =
      new PageFrames.AuditListener() {
        @Override
        public void frameTouched(int pfn) {
          writableByFrame.visit(pfn, t -> isolation(t, bad));
        }

        @Override
        public void pteTouched(int vm, long hvaPage, boolean wasPresent) {
          VmRuntime rt = vmById(vm);
          if (rt.notifierFullFlush) {
            // Q8: the notifier of this invalidation must have requested a full flush of every
            // vCPU, which exempts all their entries until they flush (spec 5.7)
            if (wasPresent) {
              for (VcpuRuntime v : rt.vcpus) {
                if (!v.pendingFlush) {
                  bad.add(
                      String.format(
                          "vm %d vcpu %d: no flush pending after the host PTE of gfn 0x%x changed",
                          vm, v.index, hvaPage));
                }
              }
            }
            return;
          }
          // the engine's one memslot maps gfn g at host page g
          byGfn.visit((hvaPage << 16) | vm, t -> isolation(t, bad));
        }
      };
  private List<String> bad = new ArrayList<>();
  private long checks;

  InvariantChecker(PageFrames frames, KsmScanner ksm, VmRuntime[] vms) {
    this.frames = frames;
    this.ksm = ksm;
    this.vms = vms;
    this.visitors = new HostMmuCore.EntryVisitor[vms.length];
    for (VmRuntime vm : vms) {
      visitors[vm.id] = (vcpu, entry) -> indexAndCheck(vm, vcpu, entry);
    }
  }

  long checks() {
    return checks;
  }

  /** Continues a restored run's count of checks. */
  void restoreChecks(long n) {
    checks = n;
  }

  /** Invariant 2 (architecture section 5), from a run's counters. */
  void checkCBits(MmuOptions options, VmStats totals) {
    List<String> bad = new ArrayList<>();
    if (options.policy() != Policy.LEGACY && totals.get(Counter.SPURIOUS_C) != 0) {
      bad.add(totals.get(Counter.SPURIOUS_C) + " C bits set by accesses that were not stores");
    }
    if (!options.has(Quirk.Q4_C_CAN_BE_MISSED) && totals.get(Counter.MISSED_C) != 0) {
      bad.add(totals.get(Counter.MISSED_C) + " stores completed with the guest C bit clear");
    }
    checks++;
    if (!bad.isEmpty()) {
      throw new IllegalStateException(
          "invariant violated (C bit, " + options.describe() + "): " + String.join("; ", bad));
    }
  }

  /** The incremental check after an event (class comment). */
  void check(long simNanos) {
    checks++;
    bad = new ArrayList<>();
    for (VmRuntime vm : vms) {
      InvariantReport rep = vm.host.checkInvariantsIncremental(visitors[vm.id]);
      if (!rep.ok()) {
        bad.add("vm " + vm.id + " host MMU: " + rep.violations());
      }
      leases(vm, bad);
    }
    bad.addAll(ksm.counterViolationsIncremental());
    bad.addAll(frames.invariantViolationsIncremental(touched));
    fail(simNanos, bad);
  }

  /** The full check: every frame, PTE, rmap_item, HTAB slot and shadow entry (class comment). */
  void checkFull(long simNanos) {
    checks++;
    List<String> bad = new ArrayList<>();
    for (VmRuntime vm : vms) {
      InvariantReport rep = vm.host.checkInvariants();
      if (!rep.ok()) {
        bad.add("vm " + vm.id + " host MMU: " + rep.violations());
      }
      leases(vm, bad);
      for (VcpuRuntime v : vm.vcpus) {
        for (HpteCacheEntry e : vm.host.cache(v.index).entries()) {
          isolation(vm, v.index, e.index(), bad);
        }
      }
    }
    bad.addAll(ksm.counterViolations());
    bad.addAll(frames.invariantViolations());
    fail(simNanos, bad);
  }

  private static void fail(long simNanos, List<String> bad) {
    if (!bad.isEmpty()) {
      throw new IllegalStateException(
          "invariant violated at simulated time " + simNanos + " ns: " + String.join("; ", bad));
    }
  }

  private void leases(VmRuntime vm, List<String> bad) {
    if (frames.leasesHeld(vm.id) != 0) {
      bad.add("vm " + vm.id + ": " + frames.leasesHeld(vm.id) + " memslot leases still held");
    }
  }

  /** Files a live entry the host audit re-checked in the indexes, and checks invariant 1 on it. */
  private void indexAndCheck(VmRuntime vm, int vcpu, int entry) {
    long token = ((long) vm.id << 32) | ((long) vcpu << 16) | entry;
    HostMmuCore host = vm.host;
    if (!vm.notifierFullFlush) {
      byGfn.add((host.cache(vcpu).raddrOf(entry) >>> 12 << 16) | vm.id, token);
    }
    int slot = host.cache(vcpu).slotOf(entry);
    if (host.htab().ownerAt(slot) == HostMmuCore.ownerToken(vcpu, entry)
        && host.protectionOf(slot).isWritable()) {
      writableByFrame.add(host.cache(vcpu).pfnOf(entry), token);
    }
    isolation(vm, vcpu, entry, bad);
  }

  private void isolation(long token, List<String> bad) {
    isolation(vmById(token >>> 32), (int) (token >>> 16) & 0xFFFF, (int) token & 0xFFFF, bad);
  }

  /** The gfn of a token's entry, or -1 if the entry is not live. */
  private long gfnOf(long token) {
    var cache = vmById(token >>> 32).host.cache((int) (token >>> 16) & 0xFFFF);
    int entry = (int) token & 0xFFFF;
    return cache.isLive(entry) ? cache.raddrOf(entry) >>> 12 : -1;
  }

  /** The host frame of a token's entry, or -1 if the entry is not live. */
  private long pfnOf(long token) {
    var cache = vmById(token >>> 32).host.cache((int) (token >>> 16) & 0xFFFF);
    int entry = (int) token & 0xFFFF;
    return cache.isLive(entry) ? cache.pfnOf(entry) : -1;
  }

  /** Invariant 1 for live entry {@code entry} of vCPU {@code vcpu}. */
  private void isolation(VmRuntime vm, int vcpu, int entry, List<String> bad) {
    if (vm.vcpus[vcpu].pendingFlush) {
      return;
    }
    HostMmuCore host = vm.host;
    HpteCacheEntry e = host.cache(vcpu).entry(entry);
    if (host.htab().ownerAt(e.slot()) != HostMmuCore.ownerToken(vcpu, entry)) {
      return; // displaced by Q5 (a stale record): no live host HPTE behind it
    }
    long gfn = e.pte().gfn();
    int now = frames.ptePfn(vm.id, gfn);
    if (now != e.pfn()) {
      bad.add(
          String.format(
              "vm %d vcpu %d: shadow entry for gfn 0x%x maps pfn %d but the host PTE maps %d",
              vm.id, vcpu, gfn, e.pfn(), now));
    }
    Lookup prot = host.protectionOf(e.slot());
    int pfn = (int) e.pfn();
    if (!frames.isLiveFrame(pfn)) {
      bad.add(
          String.format(
              "vm %d vcpu %d: shadow entry for gfn 0x%x maps freed pfn %d", vm.id, vcpu, gfn, pfn));
    } else if (prot.isWritable()
        && (frames.isKsmPage(pfn) || frames.isZeroPage(pfn) || frames.frameMapCount(pfn) != 1)) {
      bad.add(
          String.format(
              "vm %d vcpu %d: writable shadow entry for gfn 0x%x maps shared pfn %d",
              vm.id, vcpu, gfn, pfn));
    }
  }

  private VmRuntime vmById(long id) {
    if (id < vms.length && vms[(int) id].id == id) {
      return vms[(int) id]; // the engine's VMs are numbered from 0
    }
    for (VmRuntime vm : vms) {
      if (vm.id == id) {
        return vm;
      }
    }
    return null;
  }
}
