package org.mmumesh.vcpu;

import java.util.Objects;

/**
 * What {@link VcpuCore} needs next for the access in progress, as a value (sans I/O, like {@link
 * FaultStep} for a fault): both drivers (the sequential engine by calls, the {@code Vcpu} actor by
 * messages) switch over it and answer it, so neither re-derives the decision. A TLB miss needs the
 * segment's guest VSID ({@link SegmentVsid}, answered by {@link VcpuCore#onVsid}), then the host
 * HTAB search ({@link HostLookup}, answered by {@link VcpuCore#onLookup}), which ends in a {@link
 * Hit} or an exit ({@link Fault}).
 */
public sealed interface Need {

  /**
   * The access completes through host frame {@link #pfn}: a load reads it, a store writes it.
   *
   * <p>Not a record: each {@link VcpuCore} answers every hit with the same instance, refilled, so a
   * TLB hit allocates nothing (a fresh 24-byte value per hit cost the engine's TLB-hit loop about
   * 8% and the mesh's more; issue 11). A hit is therefore valid only until the driver's next call
   * on the core that returned it; both drivers use it at once (read the frame, then complete).
   */
  final class Hit implements Need {
    private int pfn;
    private boolean fromTlb;
    private boolean readC;

    /**
     * A hit (the core keeps one and {@linkplain #set refills} it).
     *
     * @param pfn the host frame the access goes through
     * @param fromTlb a TLB hit (else an HTAB hit, which filled the TLB)
     * @param readC a store through a watched page's entry (quirk Q4, {@link CBitWatch}): the guest
     *     HPTE's C bit is read now and given to {@link VcpuCore#onCRead}
     */
    public Hit(int pfn, boolean fromTlb, boolean readC) {
      set(pfn, fromTlb, readC);
    }

    Hit set(int pfn, boolean fromTlb, boolean readC) {
      this.pfn = pfn;
      this.fromTlb = fromTlb;
      this.readC = readC;
      return this;
    }

    /** The host frame the access goes through. */
    public int pfn() {
      return pfn;
    }

    /** A TLB hit (else an HTAB hit, which filled the TLB). */
    public boolean fromTlb() {
      return fromTlb;
    }

    /** A watched store (Q4): the guest C bit must be read now ({@link VcpuCore#onCRead}). */
    public boolean readC() {
      return readC;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Hit h && h.pfn == pfn && h.fromTlb == fromTlb && h.readC == readC;
    }

    @Override
    public int hashCode() {
      return (pfn * 31 + (fromTlb ? 1 : 0)) * 31 + (readC ? 1 : 0);
    }

    @Override
    public String toString() {
      return "Hit[pfn=" + pfn + ", fromTlb=" + fromTlb + ", readC=" + readC + "]";
    }
  }

  /**
   * The guest VSID of segment {@link #esid} ({@code esid_to_vsid}): answer {@link VcpuCore#onVsid}.
   * Refilled by its core like {@link Hit} (a miss allocates no need either).
   */
  final class SegmentVsid implements Need {
    private long esid;

    /** The need of segment {@code esid}'s guest VSID. */
    public SegmentVsid(long esid) {
      this.esid = esid;
    }

    SegmentVsid set(long esid) {
      this.esid = esid;
      return this;
    }

    /** The effective segment id (the access's address shifted right by 28). */
    public long esid() {
      return esid;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof SegmentVsid v && v.esid == esid;
    }

    @Override
    public int hashCode() {
      return Long.hashCode(esid);
    }

    @Override
    public String toString() {
      return "SegmentVsid[esid=" + esid + "]";
    }
  }

  /**
   * The hardware's host HTAB search for {@link #ea} under guest VSID {@link #gvsid} (the host MMU's
   * {@code lookupSlot}): answer {@link VcpuCore#onLookup}. Refilled by its core like {@link Hit}.
   */
  final class HostLookup implements Need {
    private long gvsid;
    private long ea;

    /** The need of the host HTAB search for {@code ea} under guest VSID {@code gvsid}. */
    public HostLookup(long gvsid, long ea) {
      set(gvsid, ea);
    }

    HostLookup set(long gvsid, long ea) {
      this.gvsid = gvsid;
      this.ea = ea;
      return this;
    }

    /** The segment's guest VSID. */
    public long gvsid() {
      return gvsid;
    }

    /** The access's effective address. */
    public long ea() {
      return ea;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof HostLookup l && l.gvsid == gvsid && l.ea == ea;
    }

    @Override
    public int hashCode() {
      return Long.hashCode(gvsid) * 31 + Long.hashCode(ea);
    }

    @Override
    public String toString() {
      return "HostLookup[gvsid=" + gvsid + ", ea=" + ea + "]";
    }
  }

  /**
   * An exit (spec 6.1): the driver {@linkplain VcpuCore#admit admits} it under the livelock bound,
   * then runs the fault handler from {@link VcpuCore#onFault}. Refilled by its core like {@link
   * Hit}.
   */
  final class Fault implements Need {
    private HostFault fault;

    /** The need of handling exit {@code fault}. */
    public Fault(HostFault fault) {
      this.fault = fault;
    }

    Fault set(HostFault fault) {
      this.fault = fault;
      return this;
    }

    /** The exit. */
    public HostFault fault() {
      return fault;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Fault f && Objects.equals(f.fault, fault);
    }

    @Override
    public int hashCode() {
      return Objects.hashCode(fault);
    }

    @Override
    public String toString() {
      return "Fault[fault=" + fault + "]";
    }
  }
}
