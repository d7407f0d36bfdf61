package org.mmumesh.hostmmu;

/**
 * What {@link HostMmuCore#mapPage} did (spec 5.3 / 5.4).
 *
 * @param hostVsid the host VSID of the segment
 * @param hostVpn the host VPN installed
 * @param slot the global host HTAB slot written
 * @param entry the shadow-cache entry number recorded
 * @param readOnly installed read-only (rflags 0x193 / PP 1): {@code !mayWrite || !writable}
 * @param noExec installed with N (64-bit host and {@code !mayExecute}; never on a 32-bit host)
 * @param markDirty {@code mark_page_dirty(gfn)} applies: a writable host HPTE was installed
 * @param evicted how many valid host HPTEs the insertion displaced (0 or 1)
 * @param evictionLeftStaleRecord Q5: the displaced entry's cache record was left in place
 * @param cacheFullFlush {@code hpte_cache_next} found the cache full and flushed this vCPU
 * @param vsidExhaustedFlush creating the SID map exhausted the VSID range: the SID map was cleared
 *     and this vCPU's shadow PTEs flushed; the caller must also flush its shadow segments
 */
public record MapResult(
    long hostVsid,
    long hostVpn,
    int slot,
    int entry,
    boolean readOnly,
    boolean noExec,
    boolean markDirty,
    int evicted,
    boolean evictionLeftStaleRecord,
    boolean cacheFullFlush,
    boolean vsidExhaustedFlush) {

  /** True when this map flushed every shadow PTE of the vCPU (cache full or VSIDs exhausted). */
  public boolean fullFlush() {
    return cacheFullFlush || vsidExhaustedFlush;
  }

  /**
   * True when this map may have removed a valid host HPTE (an eviction, or a flush of the vCPU), so
   * TLB entries built from it must be shot down before the map is acknowledged.
   */
  public boolean removedHptes() {
    return evicted > 0 || fullFlush();
  }
}
