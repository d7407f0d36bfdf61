package org.mmumesh.hostmmu;

import java.util.Arrays;
import java.util.Objects;
import org.mmumesh.checkpoint.PackedArrays;
import org.mmumesh.common.VsidTags;

/**
 * The per-vCPU guest-VSID to host-VSID map, {@code sid_map} (spec 5.2): 512 slots of (guest VSID,
 * host VSID, valid).
 *
 * <ul>
 *   <li>Hash: the XOR of the eight 9-bit fields {@code (gvsid >>> 9k) & 0x1FF}, k = 0..7.
 *   <li>Lookup ({@code find_sid_vsid}): slot {@code h}, then slot {@code 511 - h}; valid and equal
 *       is a hit.
 *   <li>Creation ({@code create_sid_map}): the host-wide {@link SidMapToggle} picks {@code h} or
 *       {@code 511 - h} (and flips); the chosen slot is overwritten whatever it held. If the VSID
 *       range is exhausted, it is reset and all 512 slots are cleared, and the result tells the
 *       caller to flush everything. Then the slot gets the next host VSID.
 * </ul>
 *
 * <p>The key {@code gvsid} includes {@link VsidTags#VSID_PR} when the guest runs with MSR.PR=1 (the
 * guest MMU's esid_to_vsid adds it; the kernel ORs it again in find/create, which changes nothing).
 * An overwritten map is simply forgotten: shadow PTEs made under its host VSID stay in the HTAB and
 * the cache, unreachable, until a flush removes them (kernel behaviour).
 *
 * <p>Not thread-safe.
 */
public final class SidMap {
  /** {@code SID_MAP_BITS}. */
  public static final int SID_MAP_BITS = 9;

  /** {@code SID_MAP_NUM}. */
  public static final int SID_MAP_NUM = 1 << SID_MAP_BITS;

  /** {@code SID_MAP_MASK}. */
  public static final int SID_MAP_MASK = SID_MAP_NUM - 1;

  /** Returned by {@link #findSidVsid(long)} on a miss. Host VSIDs are never negative. */
  public static final long NOT_FOUND = -1L;

  private final SidMapToggle toggle;
  private final VsidAllocator allocator;
  private final long[] guestVsid = new long[SID_MAP_NUM];
  private final long[] hostVsid = new long[SID_MAP_NUM];
  private final boolean[] valid = new boolean[SID_MAP_NUM];
  private final HostMmuStats stats = new HostMmuStats();

  /**
   * An empty SID map.
   *
   * @param toggle the host-wide alternation toggle, shared by every SID map of the host
   * @param allocator this vCPU's host VSID range
   */
  public SidMap(SidMapToggle toggle, VsidAllocator allocator) {
    this.toggle = Objects.requireNonNull(toggle, "toggle");
    this.allocator = Objects.requireNonNull(allocator, "allocator");
  }

  /** {@code kvmppc_sid_hash}: the XOR-fold of the guest VSID into 9 bits. */
  public static int sidHash(long gvsid) {
    long h = 0;
    for (int k = 0; k < 8; k++) {
      h ^= (gvsid >>> (SID_MAP_BITS * k)) & SID_MAP_MASK;
    }
    return (int) h;
  }

  /**
   * {@code find_sid_vsid}: the host VSID mapped for {@code gvsid}, or {@link #NOT_FOUND}.
   * Allocation-free.
   */
  public long findSidVsid(long gvsid) {
    int h = sidHash(gvsid);
    if (valid[h] && guestVsid[h] == gvsid) {
      return hostVsid[h];
    }
    h = SID_MAP_MASK - h;
    if (valid[h] && guestVsid[h] == gvsid) {
      return hostVsid[h];
    }
    return NOT_FOUND;
  }

  /**
   * The SID-map part of {@code kvmppc_mmu_map_segment}: finds the map of {@code gvsid}, creating it
   * if there is none.
   */
  public SidMapping mapSegment(long gvsid) {
    int h = sidHash(gvsid);
    if (valid[h] && guestVsid[h] == gvsid) {
      return new SidMapping(hostVsid[h], h, false, false);
    }
    int alt = SID_MAP_MASK - h;
    if (valid[alt] && guestVsid[alt] == gvsid) {
      return new SidMapping(hostVsid[alt], alt, false, false);
    }
    return createSidMap(gvsid);
  }

  /**
   * {@code create_sid_map}: unconditionally creates a new map for {@code gvsid} (the caller has
   * checked there is none).
   */
  public SidMapping createSidMap(long gvsid) {
    int h = sidHash(gvsid);
    int slot = toggle.next() ? SID_MAP_MASK - h : h;
    boolean flush = false;
    if (allocator.exhausted()) {
      allocator.reset();
      Arrays.fill(valid, false);
      stats.inc(HostMmuStats.Counter.VSID_EXHAUSTIONS);
      flush = true;
    }
    long hv = allocator.allocate();
    guestVsid[slot] = gvsid;
    hostVsid[slot] = hv;
    valid[slot] = true;
    stats.inc(HostMmuStats.Counter.SID_MAPS_CREATED);
    return new SidMapping(hv, slot, true, flush);
  }

  /** True when slot {@code slot} holds a valid map. */
  public boolean isValid(int slot) {
    return valid[slot];
  }

  /** The guest VSID of a slot. */
  public long guestVsidAt(int slot) {
    return guestVsid[slot];
  }

  /** The host VSID of a slot. */
  public long hostVsidAt(int slot) {
    return hostVsid[slot];
  }

  /** The number of valid maps. */
  public int validCount() {
    int n = 0;
    for (boolean b : valid) {
      if (b) {
        n++;
      }
    }
    return n;
  }

  /** True when some valid map currently has host VSID {@code hv} (scans the 512 slots). */
  public boolean mapsHostVsid(long hv) {
    for (int i = 0; i < SID_MAP_NUM; i++) {
      if (valid[i] && hostVsid[i] == hv) {
        return true;
      }
    }
    return false;
  }

  /** The VSID allocator. */
  public VsidAllocator allocator() {
    return allocator;
  }

  /** Counters: maps created, VSID exhaustions. */
  public HostMmuStats stats() {
    return stats;
  }

  /** The map's state (checkpoint; pure). */
  org.mmumesh.checkpoint.v1.SidMapState checkpoint() {
    byte[] v = new byte[SID_MAP_NUM];
    for (int i = 0; i < SID_MAP_NUM; i++) {
      v[i] = (byte) (valid[i] ? 1 : 0);
    }
    return org.mmumesh.checkpoint.v1.SidMapState.newBuilder()
        .setGuestVsids(PackedArrays.longs(guestVsid, 0, SID_MAP_NUM))
        .setHostVsids(PackedArrays.longs(hostVsid, 0, SID_MAP_NUM))
        .setValid(PackedArrays.bytes(v, 0, SID_MAP_NUM))
        .setAllocatorNext(allocator.cursor())
        .setStats(stats.checkpoint())
        .build();
  }

  /** Sets this (fresh) map from {@code s}; {@code field} names it in errors. */
  void restore(org.mmumesh.checkpoint.v1.SidMapState s, String field) {
    PackedArrays.count(field + ".guest_vsids", s.getGuestVsids(), Long.BYTES, SID_MAP_NUM);
    PackedArrays.count(field + ".host_vsids", s.getHostVsids(), Long.BYTES, SID_MAP_NUM);
    PackedArrays.count(field + ".valid", s.getValid(), 1, SID_MAP_NUM);
    byte[] v = s.getValid().toByteArray();
    for (int i = 0; i < SID_MAP_NUM; i++) {
      if (v[i] != 0 && v[i] != 1) {
        throw new org.mmumesh.checkpoint.CheckpointMismatchException(
            field + ".valid[" + i + "]: " + v[i] + "; allowed 0 or 1");
      }
    }
    try {
      allocator.restoreCursor(s.getAllocatorNext());
    } catch (org.mmumesh.checkpoint.CheckpointMismatchException e) {
      throw new org.mmumesh.checkpoint.CheckpointMismatchException(field + "." + e.getMessage());
    }
    PackedArrays.readLongs(s.getGuestVsids(), guestVsid, 0, SID_MAP_NUM);
    PackedArrays.readLongs(s.getHostVsids(), hostVsid, 0, SID_MAP_NUM);
    for (int i = 0; i < SID_MAP_NUM; i++) {
      valid[i] = v[i] == 1;
    }
    stats.restore(s.getStats(), field + ".stats");
  }
}
