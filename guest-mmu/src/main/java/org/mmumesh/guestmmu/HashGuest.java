package org.mmumesh.guestmmu;

import java.util.function.Function;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.GuestMmuState;
import org.mmumesh.checkpoint.v1.GuestVcpuRegisters;
import org.mmumesh.common.Access;

/**
 * The part of {@link GuestMmuPort} the 32-bit and 64-bit guests share: one {@link CpuState} per
 * vCPU, each vCPU's MMU over the HTAB its SDR1 names ({@link VcpuTables}: SDR1 is per vCPU in PR
 * KVM, {@code to_book3s(vcpu)->sdr1}), and the HPTE word operations that differ only by the bit
 * masks of the second word (spec 2.4 for 32-bit, spec 3.4 for 64-bit: R, C and PP) and by the HPTE
 * size. {@link Guest32} and {@link Guest64} add how the guest kernel model sets the vCPUs up, the
 * segment model (SRs or SLB) and the tlbie.
 *
 * @param <C> the vCPU state
 * @param <M> the MMU over one table
 */
abstract sealed class HashGuest<C extends CpuState, M extends HashMmu<C>> implements GuestMmuPort
    permits Guest32, Guest64 {

  /** The HPTE's second-word masks (spec 2.4 / 3.4). */
  record Word1Bits(long r, long c, long pp) {}

  /** Each vCPU's register state. */
  protected final C[] cpus;

  /** Each vCPU's MMU over the HTAB its SDR1 names (shared while the SDR1 values agree). */
  protected final VcpuTables<M> mmus;

  private final Word1Bits bits;

  /** The SDR1 every vCPU started with (configuration, checked on restore). */
  private final long bootSdr1;

  /**
   * @param cpus the vCPUs' initial states
   * @param boot the MMU over the HTAB given at creation (every vCPU starts on it)
   * @param mmuFor a new MMU over another table of the same guest memory (after {@code mtspr SDR1})
   */
  HashGuest(C[] cpus, M boot, Function<GuestHtab, M> mmuFor, Word1Bits bits) {
    this.cpus = cpus;
    this.mmus = new VcpuTables<>(cpus.length, boot, mmuFor, HashMmu::htab);
    this.bits = bits;
    this.bootSdr1 = boot.htab().sdr1();
  }

  @Override
  public final XlateResult xlate(int vcpu, long ea, Access access, boolean guestVisible) {
    return mmus.of(vcpu).xlate(cpus[vcpu], ea, access, guestVisible);
  }

  @Override
  public final long esidToVsid(int vcpu, long esid) {
    return mmus.of(vcpu).esidToVsid(cpus[vcpu], esid);
  }

  @Override
  public final CpuState cpu(int vcpu) {
    return cpus[vcpu];
  }

  @Override
  public final GuestHtab htab(int vcpu) {
    return mmus.of(vcpu).htab();
  }

  /**
   * {@code mtspr SDR1} on vCPU {@code vcpu} ({@code kvmppc_core_emulate_mtspr_pr}): from now on its
   * xlate and the guest kernel's HPTE inserts for it use the table {@code sdr1} names, in the same
   * guest memory (the words of the old table stay where they are). Setting the current value again
   * changes nothing. The caller flushes the vCPU's shadow PTEs ({@code kvmppc_mmu_pte_flush(vcpu,
   * 0, 0)}).
   *
   * @throws IllegalArgumentException as {@link #checkSdr1}; nothing changed
   */
  @Override
  public final void setSdr1(int vcpu, long sdr1) {
    mmus.point(vcpu, checkSdr1(vcpu, sdr1));
  }

  @Override
  public final long findPte(int vcpu, long ea) {
    return mmus.of(vcpu).findPte(cpus[vcpu], ea);
  }

  @Override
  public final void invalidate(long pteAddr) {
    mmus.at(pteAddr).htab().setWord(pteAddr, 0);
  }

  @Override
  public final boolean rBit(long pteAddr) {
    return (mmus.at(pteAddr).readWord1(pteAddr) & bits.r()) != 0;
  }

  @Override
  public final boolean cBit(long pteAddr) {
    return (mmus.at(pteAddr).readWord1(pteAddr) & bits.c()) != 0;
  }

  /** Rewrites the PP bits of the HPTE's second word (at half the HPTE size). */
  @Override
  public final void setPp(long pteAddr, int pp) {
    M t = mmus.at(pteAddr);
    long w1 = t.readWord1(pteAddr);
    t.htab().setWord(pteAddr + hpteBytes() / 2, (w1 & ~bits.pp()) | pp);
  }

  @Override
  public final boolean[] clearRc(long pteAddr, boolean r, boolean c) {
    long before = mmus.at(pteAddr).clearRc(pteAddr, (r ? bits.r() : 0) | (c ? bits.c() : 0));
    return new boolean[] {(before & bits.r()) != 0, (before & bits.c()) != 0};
  }

  @Override
  public final int vcpus() {
    return cpus.length;
  }

  // ---- Checkpoint (style rule 26)
  // ----------------------------------------------------------------

  @Override
  public final GuestMmuState checkpoint() {
    GuestHtab boot = htab(0);
    GuestMmuState.Builder b =
        GuestMmuState.newBuilder()
            .setMmuKind(kind())
            .setGuestMemoryBytes(boot.guestMemoryBytes())
            .setBootSdr1(bootSdr1);
    boot.checkpointWords(b); // every view shares the VM's one guest memory
    for (int v = 0; v < cpus.length; v++) {
      GuestVcpuRegisters.Builder r = GuestVcpuRegisters.newBuilder().setSdr1(htab(v).sdr1());
      cpus[v].checkpointInto(r);
      checkpointVcpu(v, r);
      b.addVcpus(r);
    }
    return b.build();
  }

  @Override
  public final void restore(GuestMmuState state) {
    GuestHtab boot = htab(0);
    CheckpointMismatchException.requireEqual("mmu_kind", state.getMmuKind(), kind());
    CheckpointMismatchException.requireEqual(
        "guest_memory_bytes", state.getGuestMemoryBytes(), boot.guestMemoryBytes());
    CheckpointMismatchException.requireEqual("boot_sdr1", state.getBootSdr1(), bootSdr1);
    CheckpointMismatchException.requireEqual("vcpus (count)", state.getVcpusCount(), cpus.length);
    // check everything first: a mismatch leaves the port untouched
    long[][] words = boot.decodeWords(state.getHtabChunksList());
    for (int v = 0; v < cpus.length; v++) {
      GuestVcpuRegisters r = state.getVcpus(v);
      String field = "vcpus[" + v + "]";
      cpus[v].checkRegisters(field, r);
      checkVcpu(field, r);
      try {
        checkSdr1(v, r.getSdr1());
      } catch (IllegalArgumentException e) {
        throw new CheckpointMismatchException(field + "." + e.getMessage());
      }
    }
    boot.restoreWords(state.getHtabChunksList(), words, state.getHtabWordWrites());
    for (int v = 0; v < cpus.length; v++) {
      GuestVcpuRegisters r = state.getVcpus(v);
      cpus[v].restoreFrom(r);
      restoreVcpu(v, r);
      mmus.point(v, htab(v).withSdr1(r.getSdr1()));
    }
  }

  private org.mmumesh.checkpoint.v1.GuestMmuKind kind() {
    return hpteBytes() == 8
        ? org.mmumesh.checkpoint.v1.GuestMmuKind.GUEST_MMU_KIND_BOOK3S_32
        : org.mmumesh.checkpoint.v1.GuestMmuKind.GUEST_MMU_KIND_BOOK3S_64;
  }

  /** Writes the guest kernel model's per-vCPU state of this guest kind (none by default). */
  void checkpointVcpu(int vcpu, GuestVcpuRegisters.Builder r) {}

  /** Checks what {@link #checkpointVcpu} wrote, naming {@code field}; changes nothing. */
  void checkVcpu(String field, GuestVcpuRegisters r) {}

  /** Installs what {@link #checkpointVcpu} wrote (checked). */
  void restoreVcpu(int vcpu, GuestVcpuRegisters r) {}

  /** H_ENTER on vCPU {@code vcpu}'s table with second word {@code word1}. */
  protected final long enterWord1(int vcpu, long ea, long word1) {
    return mmus.of(vcpu).enter(cpus[vcpu], ea, word1);
  }
}
