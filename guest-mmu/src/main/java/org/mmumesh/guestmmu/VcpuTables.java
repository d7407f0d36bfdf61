package org.mmumesh.guestmmu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Each vCPU's guest MMU over the HTAB its SDR1 names (PR KVM keeps SDR1 per vCPU, {@code
 * to_book3s(vcpu)->sdr1}), one instance per distinct table, shared by the vCPUs whose SDR1 values
 * agree. The one implementation {@link Guest32} and {@link Guest64} share for their {@code
 * Hash32Mmu} / {@code Hash64Mmu}.
 *
 * @param <M> the MMU over one table
 */
final class VcpuTables<M> {
  private final Object[] mmus;
  private final Function<GuestHtab, M> create;
  private final Function<M, GuestHtab> htabOf;

  /** The distinct instances of {@link #mmus}, in vCPU order (usually one). */
  private List<M> tables;

  /** {@code vcpus} vCPUs, all on {@code boot}'s table. */
  VcpuTables(int vcpus, M boot, Function<GuestHtab, M> create, Function<M, GuestHtab> htabOf) {
    this.mmus = new Object[vcpus];
    Arrays.fill(mmus, boot);
    this.create = create;
    this.htabOf = htabOf;
    this.tables = List.of(boot);
  }

  /** vCPU {@code vcpu}'s MMU. */
  @SuppressWarnings("unchecked")
  M of(int vcpu) {
    return (M) mmus[vcpu];
  }

  /**
   * Points vCPU {@code vcpu} at table {@code h} (already validated): the MMU of another vCPU on the
   * same SDR1 value, or a new one over the same guest memory; the same value again changes nothing.
   */
  void point(int vcpu, GuestHtab h) {
    if (htabOf.apply(of(vcpu)).sdr1() == h.sdr1()) {
      return;
    }
    M next = null;
    for (M t : tables) {
      if (htabOf.apply(t).sdr1() == h.sdr1()) {
        next = t;
      }
    }
    mmus[vcpu] = next != null ? next : create.apply(h);
    List<M> distinct = new ArrayList<>();
    for (int v = 0; v < mmus.length; v++) {
      if (!distinct.contains(of(v))) {
        distinct.add(of(v));
      }
    }
    tables = List.copyOf(distinct);
  }

  /** The MMU of a table holding the HPTE at {@code pteAddr} (some vCPU's current table). */
  M at(long pteAddr) {
    for (M t : tables) {
      if (htabOf.apply(t).contains(pteAddr)) {
        return t;
      }
    }
    throw new IllegalArgumentException(
        "pteAddr: 0x"
            + Long.toHexString(pteAddr)
            + " lies in no vCPU's HTAB; allowed: an HPTE address findPte or enter returned");
  }
}
