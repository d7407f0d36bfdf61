package org.mmumesh.guestmmu;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import org.mmumesh.common.Checks;

/**
 * One change of a vCPU's translation state, as the guest makes it: {@code mtsrin} (32-bit), {@code
 * slbmte} / {@code slbia} (64-bit), BAT writes (32-bit), the MSR's PR/IR/DR bits, and {@code mtspr
 * SDR1} (both; spec 2.1-2.4, 3.2). {@link #check} validates without changing anything; {@link
 * #apply} then changes the vCPU, so a list of changes can be applied all-or-nothing.
 *
 * <p>The guest kernel model ({@link GuestKernel}) maps pages with its own VSID scheme ({@link
 * Guest64#vsidOf}); segments a client sets to other VSIDs translate through HPTEs the client
 * inserts itself.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "op")
@JsonSubTypes({
  @JsonSubTypes.Type(value = VcpuStateChange.Mtsrin.class, name = "mtsrin"),
  @JsonSubTypes.Type(value = VcpuStateChange.Slbmte.class, name = "slbmte"),
  @JsonSubTypes.Type(value = VcpuStateChange.Slbia.class, name = "slbia"),
  @JsonSubTypes.Type(value = VcpuStateChange.SetBat.class, name = "setBat"),
  @JsonSubTypes.Type(value = VcpuStateChange.SetMsr.class, name = "setMsr"),
  @JsonSubTypes.Type(value = VcpuStateChange.SetSdr1.class, name = "setSdr1")
})
public sealed interface VcpuStateChange {

  /** Validates this change against vCPU {@code vcpu} of {@code port}; changes nothing. */
  void check(GuestMmuPort port, int vcpu);

  /** Applies this (checked) change. */
  void apply(GuestMmuPort port, int vcpu);

  /** True when the change can alter translations already cached (TLBs, shadow entries). */
  default boolean changesTranslation() {
    return true;
  }

  /** {@code mtsrin}: segment register {@code index} := {@code value} (32-bit guests). */
  record Mtsrin(int index, long value) implements VcpuStateChange {
    @Override
    public void check(GuestMmuPort port, int vcpu) {
      cpu32(port, vcpu, "mtsrin");
      Checks.inRange("segment register index", index, 0, 15);
      Checks.unsignedAtMost("segment register value", value, 0xFFFFFFFFL);
    }

    @Override
    public void apply(GuestMmuPort port, int vcpu) {
      ((Cpu32State) port.cpu(vcpu)).mtsrin(index, value);
    }
  }

  /** {@code slbmte rs, rb} (64-bit guests); the entry index is {@code rb & 0xfff}. */
  record Slbmte(long rs, long rb) implements VcpuStateChange {
    @Override
    public void check(GuestMmuPort port, int vcpu) {
      Cpu64State c = cpu64(port, vcpu, "slbmte");
      Checks.inRange("slb index (rb & 0xfff)", (int) (rb & 0xFFF), 0, c.slbNr() - 1L);
    }

    @Override
    public void apply(GuestMmuPort port, int vcpu) {
      ((Cpu64State) port.cpu(vcpu)).slbmte(rs, rb);
    }
  }

  /** {@code slbia}: invalidates every SLB entry but 0 (64-bit guests). */
  record Slbia() implements VcpuStateChange {
    @Override
    public void check(GuestMmuPort port, int vcpu) {
      cpu64(port, vcpu, "slbia");
    }

    @Override
    public void apply(GuestMmuPort port, int vcpu) {
      ((Cpu64State) port.cpu(vcpu)).slbia();
    }
  }

  /** An IBAT ({@code instruction}) or DBAT pair (32-bit guests), index 0 to 3. */
  record SetBat(boolean instruction, int index, long upper, long lower) implements VcpuStateChange {
    @Override
    public void check(GuestMmuPort port, int vcpu) {
      cpu32(port, vcpu, "BATs");
      Checks.inRange("bat index", index, 0, 3);
      Checks.unsignedAtMost("bat upper", upper, 0xFFFFFFFFL);
      Checks.unsignedAtMost("bat lower", lower, 0xFFFFFFFFL);
    }

    @Override
    public void apply(GuestMmuPort port, int vcpu) {
      ((Cpu32State) port.cpu(vcpu)).setBat(instruction, index, upper, lower);
    }
  }

  /** The MSR's PR, IR and DR bits. */
  record SetMsr(boolean pr, boolean ir, boolean dr) implements VcpuStateChange {
    @Override
    public void check(GuestMmuPort port, int vcpu) {
      port.checkVcpu(vcpu);
    }

    @Override
    public void apply(GuestMmuPort port, int vcpu) {
      CpuState c = port.cpu(vcpu);
      if (c instanceof Cpu32State c32) {
        c32.setMsr(pr, ir, dr);
      } else {
        ((Cpu64State) c).setMsr(pr, ir, dr);
      }
    }
  }

  /**
   * {@code mtspr SDR1} ({@code kvmppc_core_emulate_mtspr_pr}: {@code to_book3s(vcpu)->sdr1 =
   * spr_val}): vCPU {@code vcpu} searches the HTAB {@code sdr1} names from now on, in the same
   * guest memory; the words of its old table stay where they are. 0 is refused as the kernel
   * refuses it (-EINVAL); the value must follow the MMU kind's SDR1 rules and the table must lie
   * inside guest memory ({@link GuestMmuPort#checkSdr1}). The kernel then flushes every shadow PTE
   * of the vCPU ({@code kvmppc_mmu_pte_flush(vcpu, 0, 0)}); here the {@code Vcpu} actor does that
   * after every state change.
   */
  record SetSdr1(long sdr1) implements VcpuStateChange {
    @Override
    public void check(GuestMmuPort port, int vcpu) {
      port.checkSdr1(vcpu, sdr1);
    }

    @Override
    public void apply(GuestMmuPort port, int vcpu) {
      port.setSdr1(vcpu, sdr1);
    }
  }

  private static Cpu32State cpu32(GuestMmuPort port, int vcpu, String what) {
    port.checkVcpu(vcpu);
    if (port.cpu(vcpu) instanceof Cpu32State c) {
      return c;
    }
    throw new IllegalArgumentException(
        what + ": the guest is 64-bit (book3s_64); allowed: slbmte, slbia and MSR changes");
  }

  private static Cpu64State cpu64(GuestMmuPort port, int vcpu, String what) {
    port.checkVcpu(vcpu);
    if (port.cpu(vcpu) instanceof Cpu64State c) {
      return c;
    }
    throw new IllegalArgumentException(
        what + ": the guest is 32-bit (book3s_32); allowed: mtsrin, BATs and MSR changes");
  }
}
