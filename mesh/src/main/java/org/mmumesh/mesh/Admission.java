package org.mmumesh.mesh;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Admission of hosts and VMs: the count limits and the {@link MemoryBudget}, checked and reserved
 * in one step, synchronously, before the asynchronous directory write that creates them. Pure and
 * thread-safe (every method holds this object's lock), so concurrent creates cannot all pass a
 * check that only one of them may pass.
 *
 * <p><b>Counting.</b> A host (VM) counts from its admission until it is deleted or it is certain
 * that it never appears: the count is the union of the ids the {@link Directory} holds (created by
 * any gateway of the cluster) and the ids admitted here that the directory does not show yet
 * (pending). The directory is read <em>inside</em> this lock, at each admission: a caller's earlier
 * snapshot could miss a host whose write landed (and whose pending id was dropped) in between, and
 * count it nowhere (the race of the 65th host under load). A pending id leaves the pending set only
 * when the directory shows it (present: counted there from now on; or deleted: a tombstone, it can
 * never come back), or through {@link #hostFailed}, which the caller may call only once the host
 * certainly never appears (no write was sent, or it was removed on every node). A write whose ask
 * failed or timed out may still be applied later, so such a create keeps its slot until then.
 *
 * <p><b>Memory.</b> Each admitted host and VM holds a reservation of its projected footprint
 * ({@link FootprintEstimator}) from admission until it is deleted (or its create failed for
 * certain). A VM's reservation grows when LoadMemory populates pages outside its memory size (gfns
 * of memslots added beyond it), each page charged once.
 */
final class Admission {
  /**
   * What the node's directory holds, read under the admission lock. Its states only move forward
   * per id: absent, present, deleted (see {@link MeshDirectory}).
   */
  interface Directory {
    /** The hosts present. */
    Set<Integer> hostIds();

    /** Whether host {@code id} was deleted (a tombstone: it never appears again). */
    boolean hostDeleted(int id);

    /** The VMs present. */
    Set<Integer> vmIds();

    /** Whether VM {@code id} was deleted. */
    boolean vmDeleted(int id);

    /** {@code dir}'s view. */
    static Directory of(MeshDirectory dir) {
      return new Directory() {
        @Override
        public Set<Integer> hostIds() {
          Set<Integer> out = new HashSet<>();
          dir.hosts().forEach(h -> out.add(h.hostId()));
          return out;
        }

        @Override
        public boolean hostDeleted(int id) {
          return dir.hostDeleted(id);
        }

        @Override
        public Set<Integer> vmIds() {
          Set<Integer> out = new HashSet<>();
          dir.vms().forEach(v -> out.add(v.vmId()));
          return out;
        }

        @Override
        public boolean vmDeleted(int id) {
          return dir.vmDeleted(id);
        }
      };
    }
  }

  private final int maxHosts;
  private final int maxVms;
  private final MemoryBudget budget;
  private final Directory dir;
  private final Set<Integer> pendingHosts = new HashSet<>();
  private final Set<Integer> pendingVms = new HashSet<>();
  private final Map<Integer, MemoryBudget.Reservation> hosts = new HashMap<>();
  private final Map<Integer, MemoryBudget.Reservation> vms = new HashMap<>();
  private final Map<Integer, TreeMap<Long, Long>> chargedBeyond = new HashMap<>();

  Admission(int maxHosts, int maxVms, MemoryBudget budget, Directory dir) {
    this.maxHosts = maxHosts;
    this.maxVms = maxVms;
    this.budget = budget;
    this.dir = dir;
  }

  MemoryBudget budget() {
    return budget;
  }

  /**
   * Admits host {@code hostId} (pending until the directory shows it, or {@link #hostFailed}): a
   * LIMIT when the directory's hosts and the pending ones already reach the limit, or its footprint
   * does not fit the budget; nothing is reserved then.
   */
  synchronized void admitHost(int hostId) {
    int n = count(dir.hostIds(), pendingHosts, dir::hostDeleted);
    if (n >= maxHosts) {
      throw SimulationException.limit(
          "hosts: "
              + n
              + " exist or are being created, the limit is "
              + maxHosts
              + " per cluster; delete one first");
    }
    hosts.put(hostId, budget.reserve("host " + hostId, FootprintEstimator.host()));
    pendingHosts.add(hostId);
  }

  /** The hosts counted against the limit now (present or pending). */
  synchronized int hostCount() {
    return count(dir.hostIds(), pendingHosts, dir::hostDeleted);
  }

  /**
   * Host {@code hostId}'s create failed and the host certainly never appears (its write was never
   * sent, or it was removed from every node): its slot and memory are free again.
   */
  synchronized void hostFailed(int hostId) {
    pendingHosts.remove(hostId);
    release(hosts.remove(hostId));
  }

  /** Host {@code hostId} was deleted: its memory is free again. */
  synchronized void hostDeleted(int hostId) {
    release(hosts.remove(hostId));
  }

  /** Admits VM {@code vmId} of {@code shape}, as {@link #admitHost}. */
  synchronized void admitVm(int vmId, FootprintEstimator.VmShape shape) {
    int n = count(dir.vmIds(), pendingVms, dir::vmDeleted);
    if (n >= maxVms) {
      throw SimulationException.limit(
          "vms: "
              + n
              + " exist or are being created, the limit is "
              + maxVms
              + " per cluster; delete one first");
    }
    vms.put(vmId, budget.reserve("vm " + vmId, FootprintEstimator.vm(shape)));
    pendingVms.add(vmId);
  }

  /** The VMs counted against the limit now (present or pending). */
  synchronized int vmCount() {
    return count(dir.vmIds(), pendingVms, dir::vmDeleted);
  }

  /** VM {@code vmId}'s create failed and it certainly never appears, as {@link #hostFailed}. */
  synchronized void vmFailed(int vmId) {
    pendingVms.remove(vmId);
    vmDeleted(vmId);
  }

  /** VM {@code vmId} was deleted. */
  synchronized void vmDeleted(int vmId) {
    release(vms.remove(vmId));
    chargedBeyond.remove(vmId);
  }

  /**
   * Charges VM {@code vmId}'s reservation with the pages of {@code [gfnStart, gfnStart + pages)} at
   * or above {@code memoryPages} that no earlier load charged (pages below are in its reservation
   * since its create); a LIMIT, nothing charged, when they do not fit.
   */
  synchronized void chargeLoad(
      int vmId, long memoryPages, boolean mergeable, long gfnStart, long pages) {
    MemoryBudget.Reservation r = vms.get(vmId);
    long start = Math.max(gfnStart, memoryPages);
    long end = gfnStart + pages;
    if (r == null || start >= end) {
      return;
    }
    TreeMap<Long, Long> charged = chargedBeyond.computeIfAbsent(vmId, k -> new TreeMap<>());
    long fresh = (end - start) - covered(charged, start, end);
    if (fresh == 0) {
      return;
    }
    r.grow(
        "LoadMemory into vm " + vmId,
        fresh + " new pages beyond its memory_size_bytes (guest_frame_start " + gfnStart + ")",
        FootprintEstimator.pages(fresh, mergeable));
    add(charged, start, end);
  }

  /**
   * {@code |present ∪ pending|}, first dropping the pending ids the directory shows (present ones
   * count there from now on; deleted ones never come back).
   */
  private static int count(
      Set<Integer> present, Set<Integer> pending, java.util.function.IntPredicate deleted) {
    pending.removeIf(id -> present.contains(id) || deleted.test(id));
    return present.size() + pending.size();
  }

  private static void release(MemoryBudget.Reservation r) {
    if (r != null) {
      r.close();
    }
  }

  /** Pages of {@code [start, end)} inside the disjoint intervals {@code t} (start to end). */
  static long covered(TreeMap<Long, Long> t, long start, long end) {
    long n = 0;
    Map.Entry<Long, Long> before = t.floorEntry(start);
    if (before != null && before.getValue() > start) {
      n += Math.min(end, before.getValue()) - start;
    }
    for (Map.Entry<Long, Long> e : t.subMap(start, false, end, false).entrySet()) {
      n += Math.min(end, e.getValue()) - e.getKey();
    }
    return n;
  }

  /** Adds {@code [start, end)} to the disjoint intervals {@code t}, merging what it touches. */
  static void add(TreeMap<Long, Long> t, long start, long end) {
    Map.Entry<Long, Long> before = t.floorEntry(start);
    if (before != null && before.getValue() >= start) {
      start = before.getKey();
      end = Math.max(end, before.getValue());
    }
    Map.Entry<Long, Long> e;
    while ((e = t.ceilingEntry(start)) != null && e.getKey() <= end) {
      end = Math.max(end, e.getValue());
      t.remove(e.getKey());
    }
    t.put(start, end);
  }
}
