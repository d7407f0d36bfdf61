package org.mmumesh.vcpu;

import org.mmumesh.common.Access;
import org.mmumesh.common.FaultBits;

/**
 * A fault the host MMU raised while the guest ran (an exit): a DSI with its DSISR, or an ISI with
 * its SRR1 bits (spec 6.1).
 *
 * @param access the access that faulted (IFETCH for an ISI)
 * @param ea the faulting effective address (the DAR, or the PC for an ISI)
 * @param bits the DSISR for a data fault, the SRR1 bits for an instruction fault
 */
public record HostFault(Access access, long ea, long bits) {

  /** A data fault: no host HPTE (NOHPTE), with ISSTORE for a store. */
  public static HostFault noHpte(Access access, long ea) {
    if (!access.isData()) {
      return new HostFault(access, ea, FaultBits.SRR1_NOTFOUND);
    }
    return new HostFault(
        access, ea, FaultBits.DSISR_NOHPTE | (access.isWrite() ? FaultBits.DSISR_ISSTORE : 0));
  }

  /** A store that hit a read-only host HPTE: PROTFAULT|ISSTORE. */
  public static HostFault protection(long ea) {
    return new HostFault(Access.STORE, ea, FaultBits.DSISR_PROTFAULT | FaultBits.DSISR_ISSTORE);
  }

  /** An instruction fetch that hit a no-execute host HPTE: SRR1 0x10000000. */
  public static HostFault noExecute(long ea) {
    return new HostFault(Access.IFETCH, ea, FaultBits.SRR1_NOEXEC_GUARD);
  }

  /** True for a DSI. */
  public boolean isData() {
    return access.isData();
  }

  /** The exception vector: 0x300 or 0x400. */
  public int vector() {
    return isData() ? FaultBits.VEC_DSI : FaultBits.VEC_ISI;
  }
}
