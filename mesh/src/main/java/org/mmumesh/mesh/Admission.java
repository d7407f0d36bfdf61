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
 * <p><b>Counting.</b> A host (VM) counts from its admission: the count is the union of the ids the
 * directory holds (created by any gateway of the cluster) and the ids admitted here whose directory
 * write has not completed (pending). A created id leaves the pending set once it is in the
 * directory ({@link #hostCreated}), a failed one at once ({@link #hostFailed}), so an id is never
 * counted twice and a burst of N creates admits exactly the room left.
 *
 * <p><b>Memory.</b> Each admitted host and VM holds a reservation of its projected footprint
 * ({@link FootprintEstimator}) from admission until it is deleted (or its create failed). A VM's
 * reservation grows when LoadMemory populates pages outside its memory size (gfns of memslots added
 * beyond it), each page charged once.
 */
final class Admission {
  private final int maxHosts;
  private final int maxVms;
  private final MemoryBudget budget;
  private final Set<Integer> pendingHosts = new HashSet<>();
  private final Set<Integer> pendingVms = new HashSet<>();
  private final Map<Integer, MemoryBudget.Reservation> hosts = new HashMap<>();
  private final Map<Integer, MemoryBudget.Reservation> vms = new HashMap<>();
  private final Map<Integer, TreeMap<Long, Long>> chargedBeyond = new HashMap<>();

  Admission(int maxHosts, int maxVms, MemoryBudget budget) {
    this.maxHosts = maxHosts;
    this.maxVms = maxVms;
    this.budget = budget;
  }

  MemoryBudget budget() {
    return budget;
  }

  /**
   * Admits host {@code hostId} (pending until {@link #hostCreated} or {@link #hostFailed}): a LIMIT
   * when {@code existing} and the pending hosts already reach the limit, or its footprint does not
   * fit the budget; nothing is reserved then.
   */
  synchronized void admitHost(int hostId, Set<Integer> existing) {
    int n = union(existing, pendingHosts);
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

  /** Host {@code hostId} is in the directory: it counts from there. */
  synchronized void hostCreated(int hostId) {
    pendingHosts.remove(hostId);
  }

  /** Host {@code hostId}'s create failed: its slot and memory are free again. */
  synchronized void hostFailed(int hostId) {
    pendingHosts.remove(hostId);
    release(hosts.remove(hostId));
  }

  /** Host {@code hostId} was deleted: its memory is free again. */
  synchronized void hostDeleted(int hostId) {
    release(hosts.remove(hostId));
  }

  /** Admits VM {@code vmId} of {@code shape}, as {@link #admitHost}. */
  synchronized void admitVm(int vmId, Set<Integer> existing, FootprintEstimator.VmShape shape) {
    int n = union(existing, pendingVms);
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

  /** VM {@code vmId} is in the directory. */
  synchronized void vmCreated(int vmId) {
    pendingVms.remove(vmId);
  }

  /** VM {@code vmId}'s create failed. */
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

  private static int union(Set<Integer> a, Set<Integer> b) {
    int n = a.size();
    for (int id : b) {
      if (!a.contains(id)) {
        n++;
      }
    }
    return n;
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
