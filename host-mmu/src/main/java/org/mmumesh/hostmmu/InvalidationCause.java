package org.mmumesh.hostmmu;

/**
 * Why a shadow-PTE cache entry was removed (spec 5.6). Statistics are kept per cause so a run can
 * say how much of the shadow state each mechanism destroyed (for instance how many entries the
 * coarse MMU-notifier flush of Q8 cost).
 */
public enum InvalidationCause {
  /** {@code pte_flush(ea, ~0xFFF)}: one effective page. */
  FLUSH_PAGE,
  /** {@code pte_flush(ea, 0x0FFFF000)}: one page offset in every segment (32-bit tlbie). */
  FLUSH_LONG,
  /** {@code pte_flush(0, 0)}: everything (KVM_REQ_TLB_FLUSH, set_sregs, notifier full mode). */
  FLUSH_ALL,
  /** {@code pte_vflush(vp, 0xFFFFFFFFF)}: one 4 KiB virtual page (also unmap_page). */
  VFLUSH_4K,
  /** {@code pte_vflush(vp, 0xFFFFFFFF0)}: one 64 KiB virtual page (64-bit host only). */
  VFLUSH_64K,
  /** {@code pte_vflush(vp, 0xFFFFFF000)}: one 16 MiB virtual range. */
  VFLUSH_LONG,
  /** {@code pte_pflush(start, end)}: a guest-real range. */
  PFLUSH,
  /** {@code hpte_cache_next} found the cache full (2^15 entries) and flushed everything. */
  CACHE_FULL,
  /** The per-vCPU proto-VSID range ran out (spec 5.2) and everything was flushed. */
  VSID_EXHAUSTED,
  /** The host HPTE was evicted by an insertion into a full PTEG pair; the record was dropped. */
  EVICTED,
  /** A direct call of {@link ShadowPteCache#invalidatePte(int)}. */
  DIRECT
}
