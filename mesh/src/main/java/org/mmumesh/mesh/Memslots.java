package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Each VM's memslots and their last generation as the {@link MeshSimulation} facade keeps them
 * (guarded by this object): what {@code GetVm} lists, what {@code LoadMemory} and {@code
 * ReadMemory} must stay inside, and what a new memslot must not overlap. The page frames hold the
 * memslots themselves ({@code PageFrame.AddSlot}); this table is the facade's view, updated when
 * they answered. One facade per cluster: two facades would not see each other's tables.
 */
final class Memslots {
  private final Map<Integer, TreeMap<Integer, Simulation.Slot>> slots = new HashMap<>();
  private final Map<Integer, Long> generations = new HashMap<>();

  /** A created VM's memslot 0: {@code [0, pages)} at host page 0, at {@code generation}. */
  synchronized void created(int vmId, long pages, long generation) {
    TreeMap<Integer, Simulation.Slot> t = new TreeMap<>();
    t.put(0, new Simulation.Slot(0, 0, pages, 0, false, generation));
    slots.put(vmId, t);
    generations.put(vmId, generation);
  }

  /** Forgets a deleted VM's memslots. */
  synchronized void deleted(int vmId) {
    slots.remove(vmId);
    generations.remove(vmId);
  }

  /** VM {@code vmId}'s memslots by slot id. */
  synchronized List<Simulation.Slot> of(int vmId) {
    return List.copyOf(slots.getOrDefault(vmId, new TreeMap<>()).values());
  }

  /** VM {@code vmId}'s memslot ids, in increasing order. */
  synchronized List<Integer> ids(int vmId) {
    return new ArrayList<>(slots.getOrDefault(vmId, new TreeMap<>()).keySet());
  }

  /**
   * Holds {@code s}'s id and range for VM {@code vmId} while the page frames add it; BAD_FIELD when
   * the id is taken or the range overlaps another memslot.
   */
  synchronized void reserve(int vmId, Simulation.Slot s) {
    TreeMap<Integer, Simulation.Slot> t = slots.computeIfAbsent(vmId, k -> new TreeMap<>());
    if (t.containsKey(s.slotId())) {
      throw SimulationException.badField("memslot.slot_id", s.slotId() + " is taken in vm " + vmId);
    }
    for (Simulation.Slot o : t.values()) {
      if (s.gfnStart() < o.gfnStart() + o.pages() && o.gfnStart() < s.gfnStart() + s.pages()) {
        throw SimulationException.badField(
            "memslot",
            "gfns ["
                + s.gfnStart()
                + ", "
                + (s.gfnStart() + s.pages())
                + ") overlap slot "
                + o.slotId()
                + " ["
                + o.gfnStart()
                + ", "
                + (o.gfnStart() + o.pages())
                + ")");
      }
    }
    t.put(s.slotId(), s);
  }

  /** The reserved {@code s} was added at {@code generation} (nothing when the VM is gone). */
  synchronized void added(int vmId, Simulation.Slot s, long generation) {
    TreeMap<Integer, Simulation.Slot> t = slots.get(vmId);
    if (t != null) {
      t.put(
          s.slotId(),
          new Simulation.Slot(
              s.slotId(), s.gfnStart(), s.pages(), s.hostPageStart(), s.readOnly(), generation));
      generations.put(vmId, generation);
    }
  }

  /** The reserved memslot {@code slotId} was not added: frees its id and range. */
  synchronized void refused(int vmId, int slotId) {
    TreeMap<Integer, Simulation.Slot> t = slots.get(vmId);
    if (t != null) {
      t.remove(slotId);
    }
  }

  /** NOT_FOUND unless VM {@code vmId} has memslot {@code slotId}. */
  synchronized void require(int vmId, int slotId) {
    TreeMap<Integer, Simulation.Slot> t = slots.get(vmId);
    if (t == null || !t.containsKey(slotId)) {
      throw SimulationException.notFound("vm " + vmId + " memslot " + slotId);
    }
  }

  /** Memslot {@code slotId} was removed; answers VM {@code vmId}'s new generation. */
  synchronized long removed(int vmId, int slotId) {
    TreeMap<Integer, Simulation.Slot> t = slots.get(vmId);
    if (t != null) {
      t.remove(slotId);
    }
    long g = generations.getOrDefault(vmId, 0L) + 1;
    generations.put(vmId, g);
    return g;
  }

  /**
   * Throws BAD_FIELD naming {@code guest_frame_start} unless every gfn of {@code [gfnStart,
   * gfnStart + pages)} is in a memslot of VM {@code vmId} (LoadMemory and ReadMemory alike).
   */
  synchronized void requireInSlots(int vmId, long gfnStart, long pages) {
    long end = gfnStart + pages;
    long gfn = gfnStart;
    boolean moved = true;
    while (gfn < end && moved) {
      moved = false;
      for (Simulation.Slot s : slots.getOrDefault(vmId, new TreeMap<>()).values()) {
        if (gfn >= s.gfnStart() && gfn < s.gfnStart() + s.pages()) {
          gfn = s.gfnStart() + s.pages();
          moved = true;
        }
      }
    }
    if (gfn < end) {
      throw SimulationException.badField(
          "guest_frame_start",
          "gfn "
              + gfn
              + " of ["
              + gfnStart
              + ", "
              + end
              + ") is in no memslot of vm "
              + vmId
              + "; allowed: gfns of its memslots");
    }
  }
}
