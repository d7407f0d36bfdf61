package org.mmumesh.vcpu;

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
   * The access completes through host frame {@code pfn}: a load reads it, a store writes it.
   *
   * @param fromTlb a TLB hit (else an HTAB hit, which filled the TLB)
   * @param readC a store through a watched page's entry (quirk Q4, {@link CBitWatch}): the guest
   *     HPTE's C bit is read now and given to {@link VcpuCore#onCRead}
   */
  record Hit(int pfn, boolean fromTlb, boolean readC) implements Need {}

  /**
   * The guest VSID of segment {@code esid} ({@code esid_to_vsid}): answer {@link VcpuCore#onVsid}.
   */
  record SegmentVsid(long esid) implements Need {}

  /**
   * The hardware's host HTAB search for {@code ea} under guest VSID {@code gvsid} (the host MMU's
   * {@code lookupSlot}): answer {@link VcpuCore#onLookup}.
   */
  record HostLookup(long gvsid, long ea) implements Need {}

  /**
   * An exit (spec 6.1): the driver {@linkplain VcpuCore#admit admits} it under the livelock bound,
   * then runs the fault handler from {@link VcpuCore#onFault}.
   */
  record Fault(HostFault fault) implements Need {}
}
