package org.mmumesh.guestmmu;

import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.BatPair;
import org.mmumesh.checkpoint.v1.GuestVcpuRegisters;
import org.mmumesh.common.Checks;

/**
 * A 32-bit Book3S vCPU's translation state: MSR bits, the 16 segment registers and the 8 IBAT and 8
 * DBAT pairs (spec 2.1, 2.7). Setters validate and change nothing on bad input.
 */
public final class Cpu32State extends CpuState {
  /** SR bits (spec 2.1). */
  public static final int SR_T = 0x80000000;

  public static final int SR_KS = 0x40000000;
  public static final int SR_KP = 0x20000000;
  public static final int SR_N = 0x10000000;

  /** KVM extracts 28 bits, not the architectural 24 (spec 2.1). */
  public static final int SR_VSID_MASK = 0x0FFFFFFF;

  private final int[] sr = new int[16];
  private final Bat[] ibat = new Bat[8];
  private final Bat[] dbat = new Bat[8];

  public Cpu32State() {
    java.util.Arrays.fill(ibat, Bat.INVALID);
    java.util.Arrays.fill(dbat, Bat.INVALID);
  }

  /** Sets MSR[PR], MSR[IR] and MSR[DR]. */
  public Cpu32State setMsr(boolean pr, boolean ir, boolean dr) {
    msr(pr, ir, dr);
    return this;
  }

  /** {@code mtsrin}: stores the raw SR value (spec 2.1). */
  public Cpu32State mtsrin(int srnum, long value) {
    Checks.inRange("srnum", srnum, 0, 15);
    Checks.unsignedAtMost("sr", value, 0xFFFFFFFFL);
    sr[srnum] = (int) value;
    return this;
  }

  /** The raw SR selected by {@code ea >>> 28}. */
  public int findSr(long ea) {
    return sr[(int) ((ea >>> 28) & 0xF)];
  }

  /** The raw SR {@code srnum}. */
  public int sr(int srnum) {
    Checks.inRange("srnum", srnum, 0, 15);
    return sr[srnum];
  }

  /** Sets IBAT or DBAT {@code index} from its raw words (spec 2.7). */
  public Cpu32State setBat(boolean instruction, int index, long upper, long lower) {
    Checks.inRange(instruction ? "ibat" : "dbat", index, 0, 7);
    Checks.unsignedAtMost("batUpper", upper, 0xFFFFFFFFL);
    Checks.unsignedAtMost("batLower", lower, 0xFFFFFFFFL);
    (instruction ? ibat : dbat)[index] = new Bat((int) upper, (int) lower);
    return this;
  }

  /** IBAT or DBAT {@code index}. */
  public Bat bat(boolean instruction, int index) {
    return (instruction ? ibat : dbat)[index];
  }

  /** Sets the magic page (0 disables it); addresses must fit 32 bits. */
  public Cpu32State setMagicPage(long ea, long pa) {
    Checks.unsignedAtMost("magicPageEa", ea, 0xFFFFFFFFL);
    Checks.unsignedAtMost("magicPagePa", pa, 0xFFFFFFFFL);
    magicPage(ea, pa);
    return this;
  }

  @Override
  void checkpointInto(GuestVcpuRegisters.Builder b) {
    super.checkpointInto(b);
    for (int v : sr) {
      b.addSegmentRegisters(v);
    }
    for (int i = 0; i < 8; i++) {
      b.addIbats(BatPair.newBuilder().setUpper(ibat[i].upper()).setLower(ibat[i].lower()));
      b.addDbats(BatPair.newBuilder().setUpper(dbat[i].upper()).setLower(dbat[i].lower()));
    }
  }

  @Override
  void checkRegisters(String field, GuestVcpuRegisters r) {
    requireCount(field + ".segment_registers", r.getSegmentRegistersCount(), 16);
    requireCount(field + ".ibats", r.getIbatsCount(), 8);
    requireCount(field + ".dbats", r.getDbatsCount(), 8);
    requireCount(field + ".slb", r.getSlbCount(), 0);
    CheckpointMismatchException.checkRange(
        field + ".magic_page_ea", r.getMagicPageEa(), 0, 0xFFFFFFFFL);
    CheckpointMismatchException.checkRange(
        field + ".magic_page_pa", r.getMagicPagePa(), 0, 0xFFFFFFFFL);
  }

  private static void requireCount(String field, int count, int want) {
    if (count != want) {
      throw new CheckpointMismatchException(
          field + ": " + count + " entries; allowed exactly " + want + " for a 32-bit vCPU");
    }
  }

  @Override
  void restoreFrom(GuestVcpuRegisters r) {
    super.restoreFrom(r);
    for (int i = 0; i < 16; i++) {
      sr[i] = r.getSegmentRegisters(i);
    }
    for (int i = 0; i < 8; i++) {
      ibat[i] = new Bat(r.getIbats(i).getUpper(), r.getIbats(i).getLower());
      dbat[i] = new Bat(r.getDbats(i).getUpper(), r.getDbats(i).getLower());
    }
  }

  /** {@code sr_valid}: KVM treats T=1 (direct-store) as an invalid segment. */
  public static boolean srValid(int sr) {
    return (sr & SR_T) == 0;
  }

  /** {@code sr_vsid}: 28 bits, as KVM extracts them. */
  public static int srVsid(int sr) {
    return sr & SR_VSID_MASK;
  }
}
