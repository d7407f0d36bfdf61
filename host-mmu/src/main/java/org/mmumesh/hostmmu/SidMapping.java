package org.mmumesh.hostmmu;

/**
 * The result of {@link SidMap#mapSegment(long)}.
 *
 * @param hostVsid the host VSID the guest VSID maps to
 * @param slot the SID-map slot holding the map
 * @param created true when a new map was created (false: an existing map was found)
 * @param flushAll true when creating it exhausted the VSID range: the range was reset and the SID
 *     map cleared, and the caller must now flush every shadow PTE and shadow segment of this vCPU
 *     (the kernel does {@code pte_flush(vcpu, 0, 0)} and {@code flush_segments} inside {@code
 *     create_sid_map})
 */
public record SidMapping(long hostVsid, int slot, boolean created, boolean flushAll) {}
