package org.mmumesh.pageframe;

import java.util.Arrays;

/**
 * One VM's memslot array with its SRCU-like read side (spec 5.1, 8.8 TV61). The slot array is
 * immutable and replaced on every update, which bumps the generation: new lookups see the new array
 * at once. A read lease records the generation it was taken on; an update published at generation
 * {@code g} completes when no lease taken on a generation below {@code g} is still held ({@code
 * synchronize_srcu}).
 *
 * <p>Leases are counted per generation in a small array ordered by generation (only a handful of
 * generations are ever live at once), so acquire and release are O(1) amortised and allocate
 * nothing. The lease token handed out is the generation itself.
 */
final class Memslots {
  private MemSlot[] slots = new MemSlot[0];
  private long generation;

  // Live lease counts, ordered by generation: leaseGen[head..head+n), leaseCount[...].
  private long[] leaseGen = new long[8];
  private int[] leaseCount = new int[8];
  private int leaseHead;
  private int leaseSize;

  // Pending update tickets and the generation each waits for.
  private long[] pendingTicket = new long[4];
  private long[] pendingGen = new long[4];
  private int pendingSize;

  long generation() {
    return generation;
  }

  /** Writes the slots, generation, leases and pending tickets into {@code b} (checkpoint). */
  void checkpoint(org.mmumesh.checkpoint.v1.HostVmState.Builder b) {
    for (MemSlot m : slots) {
      b.addMemslots(
          org.mmumesh.checkpoint.v1.MemSlotState.newBuilder()
              .setSlotId(m.id())
              .setBaseGfn(m.baseGfn())
              .setPageCount(m.npages())
              .setHvaPage(m.hvaPage())
              .setReadOnly(m.readOnly()));
    }
    b.setSlotGeneration(generation);
    for (int i = leaseHead; i < leaseHead + leaseSize; i++) {
      b.addLeaseGenerations(leaseGen[i]).addLeaseCounts(leaseCount[i]);
    }
    for (int i = 0; i < pendingSize; i++) {
      b.addPendingTickets(pendingTicket[i]).addPendingGenerations(pendingGen[i]);
    }
  }

  /**
   * Restores what {@link #checkpoint} wrote, into a fresh instance; the caller has checked the
   * slots and the lengths of the paired lists.
   */
  void restore(
      MemSlot[] sorted,
      long gen,
      long[] leaseGens,
      int[] leaseCounts,
      long[] tickets,
      long[] ticketGens) {
    slots = sorted;
    generation = gen;
    leaseGen = Arrays.copyOf(leaseGens, Math.max(8, leaseGens.length));
    leaseCount = Arrays.copyOf(leaseCounts, Math.max(8, leaseCounts.length));
    leaseHead = 0;
    leaseSize = leaseGens.length;
    pendingTicket = Arrays.copyOf(tickets, Math.max(4, tickets.length));
    pendingGen = Arrays.copyOf(ticketGens, Math.max(4, ticketGens.length));
    pendingSize = tickets.length;
  }

  MemSlot[] slots() {
    return slots;
  }

  /** The slot containing {@code gfn}, or null (binary search over slots sorted by base gfn). */
  MemSlot lookup(long gfn) {
    MemSlot[] s = slots;
    int lo = 0;
    int hi = s.length - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      MemSlot m = s[mid];
      if (gfn < m.baseGfn()) {
        hi = mid - 1;
      } else if (gfn >= m.endGfn()) {
        lo = mid + 1;
      } else {
        return m;
      }
    }
    return null;
  }

  MemSlot byId(int id) {
    for (MemSlot m : slots) {
      if (m.id() == id) {
        return m;
      }
    }
    return null;
  }

  /** A slot other than {@code ignoreId} whose gfn range overlaps the given one, or null. */
  MemSlot overlapping(long baseGfn, long npages, int ignoreId) {
    for (MemSlot m : slots) {
      if (m.id() != ignoreId && m.overlaps(baseGfn, npages)) {
        return m;
      }
    }
    return null;
  }

  /** Publishes a new slot array (without {@code removeId}, plus {@code add} if non-null). */
  void publish(int removeId, MemSlot add) {
    MemSlot[] next = Arrays.stream(slots).filter(m -> m.id() != removeId).toArray(MemSlot[]::new);
    if (add != null) {
      next = Arrays.copyOf(next, next.length + 1);
      next[next.length - 1] = add;
      Arrays.sort(next, (a, b) -> Long.compare(a.baseGfn(), b.baseGfn()));
    }
    slots = next;
    generation++;
  }

  long leaseAcquire() {
    if (leaseSize > 0 && leaseGen[leaseHead + leaseSize - 1] == generation) {
      leaseCount[leaseHead + leaseSize - 1]++;
      return generation;
    }
    if (leaseHead + leaseSize == leaseGen.length) {
      if (leaseHead > 0) {
        System.arraycopy(leaseGen, leaseHead, leaseGen, 0, leaseSize);
        System.arraycopy(leaseCount, leaseHead, leaseCount, 0, leaseSize);
        leaseHead = 0;
      } else {
        leaseGen = Arrays.copyOf(leaseGen, leaseGen.length * 2);
        leaseCount = Arrays.copyOf(leaseCount, leaseCount.length * 2);
      }
    }
    leaseGen[leaseHead + leaseSize] = generation;
    leaseCount[leaseHead + leaseSize] = 1;
    leaseSize++;
    return generation;
  }

  /** True if a lease taken on generation {@code lease} is currently held. */
  boolean isHeld(long lease) {
    return indexOf(lease) >= 0;
  }

  private int indexOf(long lease) {
    for (int i = leaseHead; i < leaseHead + leaseSize; i++) {
      if (leaseGen[i] == lease && leaseCount[i] > 0) {
        return i;
      }
    }
    return -1;
  }

  /** Releases a lease (the caller checked {@link #isHeld}). */
  void leaseRelease(long lease) {
    int i = indexOf(lease);
    leaseCount[i]--;
    while (leaseSize > 0 && leaseCount[leaseHead] == 0) {
      leaseHead++;
      leaseSize--;
    }
    if (leaseSize == 0) {
      leaseHead = 0;
    }
  }

  /** The oldest generation a held lease was taken on, or Long.MAX_VALUE if none is held. */
  long oldestLeaseGeneration() {
    return leaseSize == 0 ? Long.MAX_VALUE : leaseGen[leaseHead];
  }

  int leasesHeld() {
    int n = 0;
    for (int i = leaseHead; i < leaseHead + leaseSize; i++) {
      n += leaseCount[i];
    }
    return n;
  }

  void addPending(long ticket, long gen) {
    if (pendingSize == pendingTicket.length) {
      pendingTicket = Arrays.copyOf(pendingTicket, pendingSize * 2);
      pendingGen = Arrays.copyOf(pendingGen, pendingSize * 2);
    }
    pendingTicket[pendingSize] = ticket;
    pendingGen[pendingSize] = gen;
    pendingSize++;
  }

  /**
   * Removes and returns the tickets whose wait is over (no lease older than their generation is
   * held), in publication order.
   */
  long[] takeCompleted() {
    long oldest = oldestLeaseGeneration();
    int done = 0;
    while (done < pendingSize && pendingGen[done] <= oldest) {
      done++;
    }
    if (done == 0) {
      return new long[0];
    }
    long[] out = Arrays.copyOf(pendingTicket, done);
    System.arraycopy(pendingTicket, done, pendingTicket, 0, pendingSize - done);
    System.arraycopy(pendingGen, done, pendingGen, 0, pendingSize - done);
    pendingSize -= done;
    return out;
  }

  boolean isPending(long ticket) {
    for (int i = 0; i < pendingSize; i++) {
      if (pendingTicket[i] == ticket) {
        return true;
      }
    }
    return false;
  }
}
