package org.mmumesh.common;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The one counter vocabulary of a run: what a vCPU's access path counts ({@code VcpuCore}, used by
 * both engines), what the guest kernel model counts, and what only the actor mesh has (timeouts,
 * retries, shootdowns, store flushes). The engine result, the mesh result, the gRPC responses,
 * Prometheus and the report all name counters by this enum; {@link #wireName()} is the one mapping
 * to the names on the wire (gRPC {@code Counter.name}, Prometheus labels), which are the lower-case
 * enum names.
 *
 * <p>The declaration order is the report's row order; {@link #RUN} (every counter but the mesh's
 * own) is what a run's result tables list.
 */
public enum Counter {
  ACCESSES("accesses completed or failed"),
  LOADS("loads"),
  STORES("stores"),
  IFETCHES("instruction fetches"),
  TLB_HITS("accesses that hit the vCPU TLB"),
  HTAB_HITS("TLB misses that hit a host HPTE"),
  NOHPTE_EXITS("DSI/ISI exits with no host HPTE"),
  PROTFAULT_EXITS("DSI exits on a read-only host HPTE"),
  NOEXEC_EXITS("ISI exits on a no-execute host HPTE"),
  REFLECTED_NOT_FOUND("faults reflected as 'not found'"),
  REFLECTED_PROTECTION("faults reflected as protection (-EPERM)"),
  REFLECTED_SEGMENT("faults reflected as segment interrupts"),
  REFLECTED_RAW("faults reflected raw (not handled by handle_pagefault)"),
  REFLECTED_DSI("reflected data faults (vectors 0x300, 0x380)"),
  REFLECTED_ISI("reflected instruction faults (vectors 0x400, 0x480)"),
  MMIO_EXITS("MMIO exits"),
  MAP_FAILURES("map_page failures ignored (Q7)"),
  HOST_MAPS_RO("host HPTEs installed read-only"),
  HOST_MAPS_RW("host HPTEs installed read/write"),
  MAPS_REFUSED("maps refused by the notifier guard"),
  UNMAPS("unmap_page calls"),
  MARK_DIRTY("mark_page_dirty calls"),
  SPURIOUS_C("C bits set by an access that was not a store"),
  MISSED_C("stores that completed with the guest C bit clear"),
  GUEST_DEMAND_MAPS("guest kernel: HPTEs inserted on demand", Source.GUEST_KERNEL),
  GUEST_EVICTIONS("guest kernel: HPTEs evicted from a full PTEG", Source.GUEST_KERNEL),
  GUEST_SLB_LOADS("guest kernel: SLB entries loaded", Source.GUEST_KERNEL),
  GUEST_PROT_UPGRADES("guest kernel: pages upgraded to read/write", Source.GUEST_KERNEL),
  GUEST_MISREPORTED(
      "guest kernel: 'not found' for a page that has an HPTE (Q2)", Source.GUEST_KERNEL),
  FAILED_ACCESSES("accesses reported failed"),
  TIMEOUTS("mesh: requests (and store flushes) whose reply did not come in time", Source.MESH),
  RETRIES("mesh: requests (and store flushes) sent again with the same request id", Source.MESH),
  SHOOTDOWNS("mesh: TLB shootdowns acknowledged", Source.MESH),
  STORE_FLUSHES("mesh: PageFrame.ApplyStores batches whose stores were applied", Source.MESH),
  STORES_LOST(
      "mesh: stores not applied (refused by the page frames, unanswered, no sink)", Source.MESH);

  /** The number of counters (the length of a counter vector). */
  public static final int COUNT = values().length;

  /** Every counter a run's result lists: all but the mesh's own, in declaration order. */
  public static final List<Counter> RUN =
      Arrays.stream(values()).filter(c -> c.source != Source.MESH).toList();

  /** Every counter a vCPU keeps: all but the guest kernel's, in declaration order. */
  public static final List<Counter> VCPU =
      Arrays.stream(values()).filter(c -> c.source != Source.GUEST_KERNEL).toList();

  /** Who counts a counter. */
  public enum Source {
    /** The vCPU's access path ({@code VcpuCore}), in both engines. */
    VCPU,
    /** The guest kernel model ({@code GuestKernel}), per VM. */
    GUEST_KERNEL,
    /** The actor mesh's vCPU shell only (messages, timeouts, store flushes). */
    MESH
  }

  private static final Map<String, Counter> BY_WIRE_NAME =
      Arrays.stream(values())
          .collect(Collectors.toUnmodifiableMap(Counter::wireName, Function.identity()));

  private final String description;
  private final Source source;
  private final String wireName;

  Counter(String description) {
    this(description, Source.VCPU);
  }

  Counter(String description, Source source) {
    this.description = description;
    this.source = source;
    this.wireName = name().toLowerCase(Locale.ROOT);
  }

  /** What the counter counts. */
  public String description() {
    return description;
  }

  /** Who counts it. */
  public Source source() {
    return source;
  }

  /** The counter's name on the wire (gRPC, Prometheus, JSON): the lower-case enum name. */
  public String wireName() {
    return wireName;
  }

  /**
   * The counter with wire name {@code name} (lower case) or enum name (upper case).
   *
   * @throws IllegalArgumentException naming the allowed names when there is none
   */
  public static Counter byName(String name) {
    Counter c = BY_WIRE_NAME.get(name.toLowerCase(Locale.ROOT));
    if (c == null) {
      throw new IllegalArgumentException(
          "counter: '" + name + "' is not a counter; allowed: " + BY_WIRE_NAME.keySet());
    }
    return c;
  }

  /** The counter named {@code name} (either case), or null when there is none. */
  public static Counter byNameOrNull(String name) {
    return BY_WIRE_NAME.get(name.toLowerCase(Locale.ROOT));
  }
}
