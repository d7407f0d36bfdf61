package org.mmumesh.hostmmu;

import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.mmumesh.common.CborSerializable;

/**
 * A read-only snapshot of one VM's shadow state, for comparing engines (issue 4's differential
 * test): every live shadow-PTE cache entry of every vCPU (spec 5.6, {@code struct hpte_cache}) with
 * the host HPTE it records, and the core's counters ({@link HostMmuStats#toMap()}). Both the
 * sequential engine and the {@code HostMmu} actor build it with {@link HostMmuCore#shadowDump()},
 * so the two dumps have one type and one canonical order.
 *
 * <p><b>Comparing.</b> Host frame numbers differ between engines when VMs allocate frames in a
 * different interleaving; each entry therefore carries both the host {@code pfn} and the guest
 * frame number {@code gfn} the guest PTE gave: compare by {@code gfn}, or map {@code pfn} to the
 * frame's content fingerprint before comparing ({@link #withoutPfns()} drops the pfns). Everything
 * else is a pure function of the sequence of core calls (context ids, SID-map toggle, HTAB slots).
 *
 * @param vcpus one list per vCPU index, each in {@link ShadowEntry#ORDER}
 * @param counters the core's non-zero counters ({@link HostMmuCore#stats()}), sorted by name
 */
public record ShadowDump(List<List<ShadowEntry>> vcpus, Map<String, Long> counters)
    implements CborSerializable {

  /** Copies both collections. */
  public ShadowDump {
    vcpus = vcpus.stream().map(List::copyOf).toList();
    counters = Collections.unmodifiableMap(new TreeMap<>(counters));
  }

  /**
   * One live shadow-PTE cache entry and its host HPTE.
   *
   * @param index the entry's index in its cache (allocation order)
   * @param eaddr the guest effective address mapped ({@code pte.eaddr})
   * @param vpage the guest virtual page, with KVM's mode tag bits ({@code pte.vpage})
   * @param raddr the guest real address ({@code pte.raddr})
   * @param gfn {@code raddr >>> 12}
   * @param mayRead the guest PTE allows reading
   * @param mayWrite the guest PTE allows writing
   * @param mayExecute the guest PTE allows execution
   * @param guestPageSize the guest page size (name of {@link org.mmumesh.common.PageSize})
   * @param hostVpn the host VPN of the HPTE
   * @param pfn the host frame number
   * @param slot the host HTAB slot the entry records
   * @param hptePresent the slot still holds this entry's HPTE (false only for Q5 stale records)
   * @param writable the HPTE's protection allows stores (false also when not present)
   * @param executable the HPTE's protection allows fetches
   * @param hostPageSize the host page size (name)
   */
  public record ShadowEntry(
      int index,
      long eaddr,
      long vpage,
      long raddr,
      long gfn,
      boolean mayRead,
      boolean mayWrite,
      boolean mayExecute,
      String guestPageSize,
      long hostVpn,
      long pfn,
      int slot,
      boolean hptePresent,
      boolean writable,
      boolean executable,
      String hostPageSize)
      implements CborSerializable {

    /** The canonical order: eaddr, vpage, host VPN (unsigned), then index. */
    public static final Comparator<ShadowEntry> ORDER =
        Comparator.comparing(ShadowEntry::eaddr, Long::compareUnsigned)
            .thenComparing(ShadowEntry::vpage, Long::compareUnsigned)
            .thenComparing(ShadowEntry::hostVpn, Long::compareUnsigned)
            .thenComparingInt(ShadowEntry::index);

    /** This entry with {@code pfn} set to -1 (for comparisons by gfn). */
    public ShadowEntry withoutPfn() {
      return new ShadowEntry(
          index,
          eaddr,
          vpage,
          raddr,
          gfn,
          mayRead,
          mayWrite,
          mayExecute,
          guestPageSize,
          hostVpn,
          -1,
          slot,
          hptePresent,
          writable,
          executable,
          hostPageSize);
    }
  }

  /** This dump with every entry's pfn set to -1. */
  public ShadowDump withoutPfns() {
    return new ShadowDump(
        vcpus.stream().map(l -> l.stream().map(ShadowEntry::withoutPfn).toList()).toList(),
        counters);
  }

  /** Live entries summed over vCPUs. */
  public int entryCount() {
    return vcpus.stream().mapToInt(List::size).sum();
  }
}
