package org.mmumesh.guestmmu;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.mmumesh.common.Access;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.common.Quirk;

/**
 * Properties over random HPTE words, PP, PP0, keys, MSR.PR and access kinds, checked against the
 * tables of spec 2.5 and 3.5 written out independently here.
 */
class XlatePropertiesTest {
  private static final long EA32 = 0x00345678L;
  private static final long EA64 = 0x10005000L;
  private static final long PTE32 = 0x00109980L;
  private static final long PTE64 = 0x01011880L;

  /** Spec 2.5 / 3.5 (PP0=0): rows key 0 and key 1, columns PP 0..3; "rw", "r" or "-". */
  private static final String[][] TABLE = {
    {"rw", "rw", "rw", "r"},
    {"-", "r", "rw", "r"},
  };

  /** Spec 3.5, PP0=1 rows. */
  private static final String[][] TABLE_PP0 = {
    {"-", "-", "r", "-"},
    {"-", "-", "-", "-"},
  };

  private static XlateStatus expectedStatus(
      Policy policy, boolean read, boolean write, Access access, boolean legacySkips) {
    if (!read) {
      return legacySkips && policy == Policy.LEGACY ? XlateStatus.ENOENT : XlateStatus.EPERM;
    }
    if (access.isWrite() && !write && policy != Policy.LEGACY) {
      return XlateStatus.EPERM;
    }
    return XlateStatus.OK;
  }

  private static Hash32Mmu mmu32(Policy policy) {
    // Q2 off so the status is the primary group's own answer.
    return Fixtures.f32(MmuOptions.defaults(policy).with(Quirk.Q2_SECONDARY_HIDES_EPERM, false));
  }

  private static Cpu32State cpu32(boolean pr, boolean ks, boolean kp) {
    long sr = 0x123L | (ks ? 0x40000000L : 0) | (kp ? 0x20000000L : 0);
    return new Cpu32State().mtsrin(0, sr).setMsr(pr, true, true);
  }

  @Property(tries = 2000)
  void book3s32_permissionsFollowTheTable(
      @ForAll Policy policy,
      @ForAll Access access,
      @ForAll boolean pr,
      @ForAll boolean ks,
      @ForAll boolean kp,
      @ForAll @IntRange(min = 0, max = 0xFFFFF) int rpnAndFlags) {
    Hash32Mmu mmu = mmu32(policy);
    long w1 = ((long) rpnAndFlags << 12 | (rpnAndFlags & 0xFFC)) & 0xFFFFFFFFL;
    mmu.htab().setWord(PTE32, 0x80009180L);
    mmu.htab().setWord(PTE32 + 4, w1);
    int pp = (int) (w1 & 3);
    boolean key = pr ? kp : ks;
    String cell = TABLE[key ? 1 : 0][pp];
    boolean read = !cell.equals("-");
    boolean write = cell.equals("rw");
    XlateResult r = mmu.xlate(cpu32(pr, ks, kp), EA32, access, true);
    assertThat(r.status()).isEqualTo(expectedStatus(policy, read, write, access, true));
    if (r.pte() != null) {
      assertThat(r.pte().mayRead()).isEqualTo(read);
      assertThat(r.pte().mayWrite()).isEqualTo(write);
      assertThat(r.pte().mayExecute()).isTrue();
      assertThat(r.pte().raddr()).isEqualTo((w1 & 0xFFFFF000L) | (EA32 & 0xFFF));
    }
    checkRc(policy, access, w1, mmu.readWord1(PTE32), r, read, write, 0x100, 0x80);
  }

  @Property(tries = 2000)
  void book3s64_permissionsFollowTheTable(
      @ForAll Policy policy,
      @ForAll Access access,
      @ForAll boolean pr,
      @ForAll boolean ks,
      @ForAll boolean kp,
      @ForAll boolean pp0,
      @ForAll @IntRange(min = 0, max = 0xFFFFFF) int rpn,
      @ForAll @IntRange(min = 0, max = 0xFFF) int lowBits) {
    Hash64Mmu mmu = Fixtures.f64(policy);
    long r0 = ((long) rpn << 12) | lowBits | (pp0 ? Hash64Mmu.HPTE_R_PP0 : 0);
    mmu.htab().setWord(PTE64, 0x1234001L);
    mmu.htab().setWord(PTE64 + 8, r0);
    Cpu64State cpu = new Cpu64State().setSegment(0, 1, 0x1234, ks, kp).setMsr(pr, true, true);
    int pp = (int) (r0 & 3);
    boolean key = pr ? kp : ks;
    String cell = (pp0 ? TABLE_PP0 : TABLE)[key ? 1 : 0][pp];
    boolean read = !cell.equals("-");
    boolean write = cell.equals("rw");
    XlateResult r = mmu.xlate(cpu, EA64, access, true);
    assertThat(r.status()).isEqualTo(expectedStatus(policy, read, write, access, false));
    assertThat(r.pte().mayRead()).isEqualTo(read);
    assertThat(r.pte().mayWrite()).isEqualTo(write);
    assertThat(r.pte().mayExecute()).isEqualTo((r0 & Hash64Mmu.HPTE_R_N) == 0);
    checkRc(policy, access, r0, mmu.readWord1(PTE64), r, read, write, 0x100, 0x80);
  }

  private static void checkRc(
      Policy policy,
      Access access,
      long before,
      long after,
      XlateResult r,
      boolean read,
      boolean write,
      long rBit,
      long cBit) {
    assertThat(after & ~(rBit | cBit)).as("only R and C change").isEqualTo(before & ~(rBit | cBit));
    if ((before & rBit) != 0) {
      assertThat(after & rBit).as("R is never cleared").isNotZero();
    }
    if ((before & cBit) != 0) {
      assertThat(after & cBit).as("C is never cleared").isNotZero();
    }
    boolean found = r.pte() != null;
    assertThat((after & rBit) != 0).isEqualTo((before & rBit) != 0 || (found && read));
    boolean cSet = (after & cBit) != 0 && (before & cBit) == 0;
    if (found) {
      assertThat(r.setC()).as("the result reports the C it set").isEqualTo(cSet);
      assertThat(r.cAfter()).isEqualTo((after & cBit) != 0);
    }
    if (policy == Policy.LEGACY) {
      assertThat(cSet || (before & cBit) != 0)
          .as("legacy: C set on any access the HPTE allows writing")
          .isEqualTo((before & cBit) != 0 || (found && write));
    } else {
      if (cSet) {
        assertThat(access).as("C only by a store").isEqualTo(Access.STORE);
        assertThat(r.status()).as("C only by a permitted store").isEqualTo(XlateStatus.OK);
      }
      if (access == Access.STORE && r.ok()) {
        assertThat(after & cBit).as("a permitted store sets C").isNotZero();
      }
    }
  }

  @Property(tries = 1000)
  void guestVisibleFalse_leavesTheHtabBitForBitUnchanged(
      @ForAll Policy policy,
      @ForAll Access access,
      @ForAll boolean pr,
      @ForAll @IntRange(min = 0, max = 0xFFFFF) int w1High,
      @ForAll @IntRange(min = 0, max = 0xFFF) int w1Low) {
    Hash32Mmu m32 = mmu32(policy);
    long w1 = ((long) w1High << 12) | w1Low;
    m32.htab().setWord(PTE32, 0x80009180L);
    m32.htab().setWord(PTE32 + 4, w1);
    m32.xlate(cpu32(pr, false, true), EA32, access, false);
    assertThat(m32.readWord1(PTE32)).isEqualTo(w1);
    assertThat(m32.htab().word(PTE32)).isEqualTo(0x80009180L);

    Hash64Mmu m64 = Fixtures.f64(policy);
    m64.htab().setWord(PTE64, 0x1234001L);
    m64.htab().setWord(PTE64 + 8, w1);
    long writes = m64.htab().writes();
    m64.xlate(Fixtures.cpu64(pr), EA64, access, false);
    assertThat(m64.readWord1(PTE64)).isEqualTo(w1);
    assertThat(m64.htab().writes()).isEqualTo(writes);
  }
}
