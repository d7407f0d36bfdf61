package org.mmumesh.engine;

/** The per-VM counters a run keeps (issue 3's statistics list). */
public enum Stat {
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
  GUEST_DEMAND_MAPS("guest kernel: HPTEs inserted on demand"),
  GUEST_EVICTIONS("guest kernel: HPTEs evicted from a full PTEG"),
  GUEST_SLB_LOADS("guest kernel: SLB entries loaded"),
  GUEST_PROT_UPGRADES("guest kernel: pages upgraded to read/write"),
  GUEST_MISREPORTED("guest kernel: 'not found' for a page that has an HPTE (Q2)"),
  FAILED_ACCESSES("accesses reported failed");

  private final String description;

  Stat(String description) {
    this.description = description;
  }

  /** What the counter counts. */
  public String description() {
    return description;
  }
}
