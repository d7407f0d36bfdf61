package org.mmumesh.guestmmu;

import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.GuestMmuState;
import org.mmumesh.common.Access;
import org.mmumesh.common.Checks;
import org.mmumesh.common.HostFlush;

/**
 * One VM's guest MMU as the engine sees it: the 32-bit and 64-bit models behind one interface, plus
 * the HTAB operations the guest kernel model performs. Per-vCPU register state lives here too, SDR1
 * included: each vCPU searches the HTAB its own SDR1 names ({@link #htab(int)}, {@link #setSdr1}),
 * all of them in the VM's one guest memory. Operations that take an HPTE address ({@link
 * #invalidate}, {@link #cBit}, ...) address guest memory directly: the address must lie in some
 * vCPU's current table (it came from {@link #findPte} or {@link #enter}).
 */
public interface GuestMmuPort {

  /** The kernel's xlate for vCPU {@code vcpu}. */
  XlateResult xlate(int vcpu, long ea, Access access, boolean guestVisible);

  /** {@code esid_to_vsid} for vCPU {@code vcpu}. */
  long esidToVsid(int vcpu, long esid);

  /** The vCPU's register state. */
  CpuState cpu(int vcpu);

  /** The vCPU's translation mode as 3 bits (PR, IR, DR), part of TLB tags. */
  default int mode(int vcpu) {
    CpuState c = cpu(vcpu);
    return (c.msrPr() ? 4 : 0) | (c.msrIr() ? 2 : 0) | (c.msrDr() ? 1 : 0);
  }

  /**
   * vCPU 0's HTAB: the one SDR1 named at creation until a guest sets another. {@link
   * GuestHtab#forEachNonZeroWord} on it visits the words of every table of the VM.
   */
  default GuestHtab htab() {
    return htab(0);
  }

  /** The HTAB vCPU {@code vcpu} searches: the one its SDR1 names. */
  GuestHtab htab(int vcpu);

  /**
   * {@code mtspr SDR1} on vCPU {@code vcpu} ({@code kvmppc_core_emulate_mtspr_pr}): its xlate and
   * the HPTE inserts made for it use the table {@code sdr1} names from now on; the words of its old
   * table stay in guest memory. The caller must flush the vCPU's shadow PTEs ({@code
   * kvmppc_mmu_pte_flush(vcpu, 0, 0)}) and cached translations.
   *
   * @throws IllegalArgumentException as {@link #checkSdr1}; nothing changed
   */
  void setSdr1(int vcpu, long sdr1);

  /**
   * Validates {@code mtspr SDR1} on vCPU {@code vcpu} without changing anything: 0 is refused (the
   * kernel returns -EINVAL), and the table must follow the MMU kind's SDR1 rules (spec 2.2:
   * reserved bits 0x0000FE00 clear, HTABMASK of the form 2^n-1, HTABORG aligned to the table size;
   * spec 3.2: reserved bits 0x3FFE0 clear, HTABSIZE 0 to 28, HTABORG aligned to the table size) and
   * lie inside guest memory.
   *
   * @return the table {@code sdr1} names, in this VM's guest memory
   * @throws IllegalArgumentException naming {@code vcpu} or {@code sdr1} (or its field) and the
   *     allowed values
   */
  default GuestHtab checkSdr1(int vcpu, long sdr1) {
    checkVcpu(vcpu);
    GuestHtab current = htab(vcpu);
    if (sdr1 == 0) {
      String top = "0x" + Long.toHexString(current.guestMemoryBytes());
      throw new IllegalArgumentException(
          "sdr1: 0 is refused (mtspr SDR1 of 0 is -EINVAL); allowed: "
              + (current.wordBytes() == 4
                  ? "a non-zero HTABORG | HTABMASK (HTABMASK 2^n-1 up to 0x1ff) whose 64 KiB x"
                      + " (HTABMASK+1) table is aligned to its size and ends at or below "
                  : "a non-zero HTABORG | HTABSIZE (HTABSIZE 0 to 28) whose 2^(HTABSIZE+18)-byte"
                      + " table is aligned to its size and ends at or below ")
              + top);
    }
    return current.withSdr1(sdr1);
  }

  /** Bytes per HPTE (8 or 16). */
  int hpteBytes();

  /**
   * H_ENTER: an HPTE for {@code ea} -> {@code gfn} with {@code pp}; -1 when both PTEGs are full.
   */
  long enter(int vcpu, long ea, long gfn, int pp);

  /** The guest-real address of {@code ea}'s primary PTEG. */
  long primaryPteg(int vcpu, long ea);

  /** The HPTE translating {@code ea}, or -1. */
  long findPte(int vcpu, long ea);

  /** Invalidates the HPTE at {@code pteAddr} (clears its first word). */
  void invalidate(long pteAddr);

  /** The host flush a guest tlbie of {@code ea}'s page asks for. */
  HostFlush tlbieFor(int vcpu, long ea);

  /** True when the HPTE at {@code pteAddr} has its C bit set. */
  boolean cBit(long pteAddr);

  /** Rewrites the PP bits of the HPTE at {@code pteAddr}. */
  void setPp(long pteAddr, int pp);

  /**
   * Handles a segment miss for {@code ea} (64-bit: loads an SLB entry). Returns false when there is
   * nothing to load (32-bit guests have all 16 SRs set).
   */
  boolean loadSegment(int vcpu, long ea);

  /** True when the HPTE at {@code pteAddr} has its R (referenced) bit set. */
  boolean rBit(long pteAddr);

  /**
   * Clears R ({@code r}) and/or C ({@code c}) of the HPTE at {@code pteAddr} (dirty tracking); the
   * guest must then tlbie the page. Returns {R, C} before the change.
   */
  boolean[] clearRc(long pteAddr, boolean r, boolean c);

  /**
   * The VM's guest MMU state (style rule 26): the HTAB words of its guest memory, every vCPU's
   * registers and SDR1, and the configuration it was built with. Pure: changes nothing.
   */
  GuestMmuState checkpoint();

  /**
   * Puts {@code state} into this freshly built port (built with the same kind, memory size, boot
   * SDR1 and vCPU count): afterwards {@link #checkpoint()} equals {@code state} and every operation
   * answers as on the port it was taken from.
   *
   * @throws CheckpointMismatchException naming the field and both values (or the allowed range)
   *     when the state does not fit this port or is inconsistent; nothing changed then
   */
  void restore(GuestMmuState state);

  /** The number of vCPUs (valid indexes are 0 to {@code vcpus() - 1}). */
  int vcpus();

  /** The largest effective address (unsigned): 0xFFFFFFFF for 32-bit guests, all ones for 64. */
  long maxEa();

  /**
   * The largest gfn an HPTE's RPN field can hold: 0xFFFFF for 32-bit (spec 2.4, RPN bits 0-19),
   * 0x3FFFFFFFFFFFF for 64-bit (spec 3.4, {@code HPTE_R_RPN}).
   */
  long maxGfn();

  /**
   * Requires a valid vCPU index.
   *
   * @throws IllegalArgumentException naming {@code vcpu} and the allowed range
   */
  default void checkVcpu(int vcpu) {
    Checks.inRange("vcpu", vcpu, 0, vcpus() - 1L);
  }

  /**
   * Requires an effective address this MMU can translate (32 bits on a 32-bit MMU).
   *
   * @throws IllegalArgumentException naming {@code ea} and the allowed range
   */
  default void checkEa(long ea) {
    Checks.unsignedAtMost("ea", ea, maxEa());
  }

  /**
   * Requires a segment number this MMU has: 0 to 15 for 32-bit, 0 to 2^36-1 for 64-bit.
   *
   * @throws IllegalArgumentException naming {@code esid} and the allowed range
   */
  default void checkEsid(long esid) {
    Checks.unsignedAtMost("esid", esid, maxEa() >>> 28);
  }
}
