package org.mmumesh.vcpu;

import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.TlbState;

/**
 * A vCPU's TLB: a direct-mapped cache from (effective page, translation mode) to the host HTAB slot
 * that translates it, with the slot's protection. Entries are stamped with the VM's invalidation
 * epoch: any invalidation of a host HPTE of the VM bumps the epoch, which empties every TLB of the
 * VM at once (a conservative {@code tlbie; tlbsync}). A hit therefore never outlives the host HPTE
 * it came from.
 *
 * <p><b>Lazy.</b> The arrays (about 25 bytes per entry: 1.6 MB at 65,536 entries) are allocated at
 * the first lookup or fill, so a vCPU that never ran holds none. A parked vCPU keeps only the
 * entries valid at its epoch ({@link #snapshot}); {@link #restored} puts them back at the first
 * use, so the restored vCPU hits exactly where it would have hit had it never been parked.
 */
public final class Tlb {
  /** Protection bits kept per entry. */
  public static final int PROT_WRITE = 1;

  public static final int PROT_EXEC = 2;

  /**
   * The entries valid at {@code epoch}, compactly: entry {@code k} was at index {@code index[k]}.
   */
  public record Snapshot(
      long epoch, int[] index, long[] tags, int[] slots, int[] pfns, byte[] prots) {}

  private final int entries;
  private final int mask;
  private long[] tags;
  private long[] epochs;
  private int[] slots;
  private byte[] prots;
  private int[] pfns;

  /** Entries to put back at the first use (a restored TLB), or null. */
  private Snapshot parked;

  /**
   * @param entries a power of two, 1 to 2^16
   */
  public Tlb(int entries) {
    if (entries < 1 || entries > (1 << 16) || Integer.bitCount(entries) != 1) {
      throw new IllegalArgumentException(
          "tlb entries: " + entries + " is not allowed; allowed: a power of two from 1 to 65536");
    }
    this.entries = entries;
    mask = entries - 1;
  }

  /** A TLB of {@code entries} holding {@code s}'s entries (null: none), allocated at first use. */
  public static Tlb restored(int entries, Snapshot s) {
    Tlb t = new Tlb(entries);
    t.parked = s;
    return t;
  }

  /** Whether the arrays are allocated (the TLB was used). */
  public boolean isAllocated() {
    return tags != null;
  }

  private void allocate() {
    tags = new long[entries];
    epochs = new long[entries];
    slots = new int[entries];
    prots = new byte[entries];
    pfns = new int[entries];
    java.util.Arrays.fill(epochs, -1);
    Snapshot s = parked;
    parked = null;
    if (s != null) {
      for (int k = 0; k < s.index().length; k++) {
        int i = s.index()[k];
        tags[i] = s.tags()[k];
        epochs[i] = s.epoch();
        slots[i] = s.slots()[k];
        pfns[i] = s.pfns()[k];
        prots[i] = s.prots()[k];
      }
    }
  }

  /** The entries valid at {@code epoch} (what a parked vCPU keeps), or null when there are none. */
  public Snapshot snapshot(long epoch) {
    if (tags == null) {
      return parked != null && parked.epoch() == epoch ? parked : null;
    }
    int n = 0;
    for (long e : epochs) {
      if (e == epoch) {
        n++;
      }
    }
    if (n == 0) {
      return null;
    }
    Snapshot s = new Snapshot(epoch, new int[n], new long[n], new int[n], new int[n], new byte[n]);
    int k = 0;
    for (int i = 0; i < entries; i++) {
      if (epochs[i] == epoch) {
        s.index()[k] = i;
        s.tags()[k] = tags[i];
        s.slots()[k] = slots[i];
        s.pfns()[k] = pfns[i];
        s.prots()[k] = prots[i];
        k++;
      }
    }
    return s;
  }

  // ---- Checkpoint (style rule 26)
  // ----------------------------------------------------------------

  /**
   * The entries valid at {@code epoch}, the VM's invalidation epoch now ({@link #snapshot}): an
   * entry of an older epoch can never hit again (the epoch only grows), so these are all that
   * matters. Pure: allocates nothing in the TLB, changes nothing.
   */
  public TlbState checkpoint(long epoch) {
    TlbState.Builder b = TlbState.newBuilder().setSizeEntries(entries).setEpoch(epoch);
    Snapshot s = snapshot(epoch);
    if (s != null) {
      for (int k = 0; k < s.index().length; k++) {
        b.addEntryIndexes(s.index()[k])
            .addTags(s.tags()[k])
            .addSlots(s.slots()[k])
            .addPfns(s.pfns()[k])
            .addProts(s.prots()[k] & 0xFF);
      }
    }
    return b.build();
  }

  /**
   * Puts {@code state} into this freshly built TLB (same size): its entries come back at the first
   * use, as a parked vCPU's do ({@link #restored}).
   *
   * @throws CheckpointMismatchException naming the field and the allowed values when the size
   *     differs, lengths disagree, an index is out of range or not its tag's slot, or a protection
   *     has unknown bits; nothing changed then
   */
  public void restore(TlbState state) {
    CheckpointMismatchException.requireEqual("tlb.size_entries", state.getSizeEntries(), entries);
    int n = state.getEntryIndexesCount();
    String[] names = {"tlb.tags", "tlb.slots", "tlb.pfns", "tlb.prots"};
    int[] counts = {
      state.getTagsCount(), state.getSlotsCount(), state.getPfnsCount(), state.getProtsCount()
    };
    for (int i = 0; i < names.length; i++) {
      if (counts[i] != n) {
        throw new CheckpointMismatchException(
            names[i]
                + ": "
                + counts[i]
                + " entries; allowed exactly as many as tlb.entry_indexes ("
                + n
                + ")");
      }
    }
    Snapshot s =
        new Snapshot(
            state.getEpoch(), new int[n], new long[n], new int[n], new int[n], new byte[n]);
    int prev = -1;
    for (int k = 0; k < n; k++) {
      int i = state.getEntryIndexes(k);
      long tag = state.getTags(k);
      CheckpointMismatchException.checkRange(
          "tlb.entry_indexes[" + k + "]", i, prev + 1L, entries - 1L);
      if (index(tag) != i) {
        throw new CheckpointMismatchException(
            "tlb.entry_indexes["
                + k
                + "]: "
                + i
                + " is not the slot of tlb.tags["
                + k
                + "]; allowed "
                + index(tag));
      }
      CheckpointMismatchException.checkRange(
          "tlb.prots[" + k + "]", state.getProts(k), 0, PROT_WRITE | PROT_EXEC | 4);
      prev = i;
      s.index()[k] = i;
      s.tags()[k] = tag;
      s.slots()[k] = state.getSlots(k);
      s.pfns()[k] = state.getPfns(k);
      s.prots()[k] = (byte) state.getProts(k);
    }
    tags = null;
    epochs = null;
    slots = null;
    prots = null;
    pfns = null;
    parked = n == 0 ? null : s;
  }

  /** The tag of an effective page in a translation mode (PR/IR/DR bits, 0-7). */
  public static long tag(long ea, int mode) {
    return (ea >>> 12) << 3 | mode;
  }

  private int index(long tag) {
    long h = tag * 0x9E3779B97F4A7C15L;
    return (int) (h >>> 40) & mask;
  }

  /** The entry index holding {@code tag} at {@code epoch}, or -1 (a miss). */
  public int lookup(long tag, long epoch) {
    if (tags == null) {
      if (parked == null) {
        return -1;
      }
      allocate();
    }
    int i = index(tag);
    return tags[i] == tag && epochs[i] == epoch ? i : -1;
  }

  /** Fills the entry for {@code tag}. */
  public void fill(long tag, long epoch, int slot, int pfn, int prot) {
    if (tags == null) {
      allocate();
    }
    int i = index(tag);
    tags[i] = tag;
    epochs[i] = epoch;
    slots[i] = slot;
    pfns[i] = pfn;
    prots[i] = (byte) prot;
  }

  /** Empties every entry (a vCPU state change: new segments or MSR bits). */
  public void flush() {
    parked = null;
    if (tags != null) {
      java.util.Arrays.fill(epochs, -1);
    }
  }

  /** Clears {@code bits} of the protection of entry {@code i} (instrumentation bits). */
  public void clearProt(int i, int bits) {
    prots[i] = (byte) (prots[i] & ~bits);
  }

  /** The host HTAB slot of entry {@code i}. */
  public int slot(int i) {
    return slots[i];
  }

  /** The host frame of entry {@code i}. */
  public int pfn(int i) {
    return pfns[i];
  }

  /** The protection bits of entry {@code i}. */
  public int prot(int i) {
    return prots[i];
  }
}
