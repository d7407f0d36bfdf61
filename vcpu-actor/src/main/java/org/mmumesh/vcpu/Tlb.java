package org.mmumesh.vcpu;

/**
 * A vCPU's TLB: a direct-mapped cache from (effective page, translation mode) to the host HTAB slot
 * that translates it, with the slot's protection. Entries are stamped with the VM's invalidation
 * epoch: any invalidation of a host HPTE of the VM bumps the epoch, which empties every TLB of the
 * VM at once (a conservative {@code tlbie; tlbsync}). A hit therefore never outlives the host HPTE
 * it came from.
 */
public final class Tlb {
  /** Protection bits kept per entry. */
  public static final int PROT_WRITE = 1;

  public static final int PROT_EXEC = 2;

  private final int mask;
  private final long[] tags;
  private final long[] epochs;
  private final int[] slots;
  private final byte[] prots;
  private final int[] pfns;

  /**
   * @param entries a power of two, 1 to 2^16
   */
  public Tlb(int entries) {
    if (entries < 1 || entries > (1 << 16) || Integer.bitCount(entries) != 1) {
      throw new IllegalArgumentException(
          "tlb entries: " + entries + " is not allowed; allowed: a power of two from 1 to 65536");
    }
    mask = entries - 1;
    tags = new long[entries];
    epochs = new long[entries];
    slots = new int[entries];
    prots = new byte[entries];
    pfns = new int[entries];
    java.util.Arrays.fill(epochs, -1);
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
    int i = index(tag);
    return tags[i] == tag && epochs[i] == epoch ? i : -1;
  }

  /** Fills the entry for {@code tag}. */
  public void fill(long tag, long epoch, int slot, int pfn, int prot) {
    int i = index(tag);
    tags[i] = tag;
    epochs[i] = epoch;
    slots[i] = slot;
    pfns[i] = pfn;
    prots[i] = (byte) prot;
  }

  /** Empties every entry (a vCPU state change: new segments or MSR bits). */
  public void flush() {
    java.util.Arrays.fill(epochs, -1);
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
