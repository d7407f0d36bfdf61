package org.mmumesh.guestmmu;

import java.util.Arrays;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.GuestVcpuRegisters;
import org.mmumesh.checkpoint.v1.SlbSlot;
import org.mmumesh.common.Checks;
import org.mmumesh.common.PageSize;

/**
 * A 64-bit Book3S vCPU's translation state: MSR bits and the SLB (spec 3.1). The SLB has {@code
 * slbNr} entries (64 by default, the guest ABI's number); {@link #slbmte(long, long)} decodes
 * entries as KVM does. Lookup is a linear scan comparing {@code ea >>> 28} (256 MiB) or {@code ea
 * >>> 40} (1 TiB) with each valid entry's ESID.
 */
public final class Cpu64State extends CpuState {
  /** The guest ABI's SLB size. */
  public static final int DEFAULT_SLB_NR = 64;

  private final boolean multiPageSize;
  private final SlbEntry[] slb;

  /**
   * @param slbNr SLB entries (1 to 64)
   * @param multiPageSize the CPU has the multi-page-size flag (POWER6/7/7+/8:
   *     BOOK3S_HFLAG_MULTI_PGSIZE), which decodes LP and checks large-page encodings
   */
  public Cpu64State(int slbNr, boolean multiPageSize) {
    Checks.inRange("slbNr", slbNr, 1, DEFAULT_SLB_NR);
    this.slb = new SlbEntry[slbNr];
    this.multiPageSize = multiPageSize;
  }

  /** A POWER7-like vCPU: 64 SLB entries, multi-page-size. */
  public Cpu64State() {
    this(DEFAULT_SLB_NR, true);
  }

  /** True on CPUs with BOOK3S_HFLAG_MULTI_PGSIZE. */
  public boolean multiPageSize() {
    return multiPageSize;
  }

  /** Sets MSR[PR], MSR[IR] and MSR[DR]. */
  public Cpu64State setMsr(boolean pr, boolean ir, boolean dr) {
    msr(pr, ir, dr);
    return this;
  }

  /** Sets the magic page (0 disables it). */
  public Cpu64State setMagicPage(long ea, long pa) {
    magicPage(ea, pa);
    return this;
  }

  /** The number of SLB entries. */
  public int slbNr() {
    return slb.length;
  }

  /**
   * {@code slbmte RS,RB} (spec 3.1): the entry index is {@code RB & 0xFFF}.
   *
   * @throws IllegalArgumentException when the index is not below {@link #slbNr()}; nothing changes
   */
  public Cpu64State slbmte(long rs, long rb) {
    int nr = (int) (rb & 0xFFF);
    Checks.inRange("slb index (rb & 0xfff)", nr, 0, slb.length - 1);
    boolean large = (rs & SlbEntry.SLB_VSID_L) != 0;
    boolean tb = (rs & SlbEntry.SLB_VSID_B_1T) != 0;
    PageSize base = PageSize.SIZE_4K;
    if (large) {
      if (multiPageSize) {
        long lp = rs & SlbEntry.SLB_VSID_LP;
        if (lp == 0x00) {
          base = PageSize.SIZE_16M;
        } else if (lp == 0x10) {
          base = PageSize.SIZE_64K;
        }
      } else {
        base = PageSize.SIZE_16M;
      }
    }
    int sidShift = tb ? 40 : 28;
    slb[nr] =
        new SlbEntry(
            tb ? rb >>> 40 : rb >>> 28,
            (rs & ~SlbEntry.SLB_VSID_B) >>> (sidShift - 16),
            (rb & SlbEntry.SLB_ESID_V) != 0,
            (rs & SlbEntry.SLB_VSID_KS) != 0,
            (rs & SlbEntry.SLB_VSID_KP) != 0,
            (rs & SlbEntry.SLB_VSID_N) != 0,
            large,
            tb,
            (rs & SlbEntry.SLB_VSID_C) != 0,
            base,
            rb & (SlbEntry.ESID_MASK | SlbEntry.SLB_ESID_V),
            rs);
    return this;
  }

  /** Convenience: a valid 256 MiB, 4 KiB-page entry mapping {@code esid} to {@code vsid}. */
  public Cpu64State setSegment(int index, long esid, long vsid, boolean ks, boolean kp) {
    Checks.unsignedAtMost("esid", esid, 0xFFFFFFFFFL);
    Checks.unsignedAtMost("vsid", vsid, (1L << 50) - 1);
    long rs = (vsid << 12) | (ks ? SlbEntry.SLB_VSID_KS : 0) | (kp ? SlbEntry.SLB_VSID_KP : 0);
    long rb = (esid << 28) | SlbEntry.SLB_ESID_V | index;
    return slbmte(rs, rb);
  }

  /** {@code slbie}: invalidates the entry translating {@code ea}, if any. */
  public Cpu64State slbie(long ea) {
    for (int i = 0; i < slb.length; i++) {
      SlbEntry e = slb[i];
      if (e != null && e.valid() && e.esid() == (ea >>> e.sidShift())) {
        slb[i] = null;
      }
    }
    return this;
  }

  /** {@code slbia}: invalidates every entry. */
  public Cpu64State slbia() {
    Arrays.fill(slb, null);
    return this;
  }

  /** SLB entry {@code index}, or null when empty. */
  public SlbEntry slb(int index) {
    Checks.inRange("slb index", index, 0, slb.length - 1);
    return slb[index];
  }

  @Override
  void checkpointInto(GuestVcpuRegisters.Builder b) {
    super.checkpointInto(b);
    b.setSlbSizeEntries(slb.length).setMultiPageSize(multiPageSize);
    for (int i = 0; i < slb.length; i++) {
      if (slb[i] != null) {
        b.addSlb(SlbSlot.newBuilder().setIndex(i).setRs(slb[i].origv()).setRb(slb[i].orige()));
      }
    }
  }

  @Override
  void checkRegisters(String field, GuestVcpuRegisters r) {
    if (r.getSegmentRegistersCount() != 0 || r.getIbatsCount() != 0 || r.getDbatsCount() != 0) {
      throw new CheckpointMismatchException(
          field + ": segment registers or BATs given; allowed: none for a 64-bit vCPU");
    }
    CheckpointMismatchException.requireEqual(
        field + ".slb_size_entries", r.getSlbSizeEntries(), slb.length);
    CheckpointMismatchException.requireEqual(
        field + ".multi_page_size", r.getMultiPageSize(), multiPageSize);
    int prev = -1;
    for (int k = 0; k < r.getSlbCount(); k++) {
      SlbSlot s = r.getSlb(k);
      CheckpointMismatchException.checkRange(
          field + ".slb[" + k + "].index", s.getIndex(), prev + 1, slb.length - 1);
      prev = s.getIndex();
      if ((s.getRb() & ~(SlbEntry.ESID_MASK | SlbEntry.SLB_ESID_V)) != 0) {
        throw new CheckpointMismatchException(
            field
                + ".slb["
                + k
                + "].rb: bits outside ESID and V are set; allowed: rb & 0x"
                + Long.toHexString(SlbEntry.ESID_MASK | SlbEntry.SLB_ESID_V));
      }
    }
  }

  @Override
  void restoreFrom(GuestVcpuRegisters r) {
    super.restoreFrom(r);
    Arrays.fill(slb, null);
    for (SlbSlot s : r.getSlbList()) {
      slbmte(s.getRs(), s.getRb() | s.getIndex()); // the same decode as the guest's slbmte
    }
  }

  /** {@code find_slbe}: the first valid entry whose ESID matches {@code ea}, or null. */
  public SlbEntry findSlbe(long ea) {
    for (SlbEntry e : slb) {
      if (e != null && e.valid() && e.esid() == (ea >>> e.sidShift())) {
        return e;
      }
    }
    return null;
  }
}
