package org.mmumesh.hostmmu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.mmumesh.common.DirtySet;

/**
 * The incremental form of {@link HostMmuCore#checkInvariants()} ({@code --check-invariants}): the
 * same invariants, checked for the host HTAB slots and shadow-cache entries that changed since the
 * last check instead of a pass over the whole HTAB, every bucket of every cache and every entry.
 *
 * <h2>How</h2>
 *
 * <p>{@link HostHtab} marks every slot it writes, owns or invalidates, and each {@link
 * ShadowPteCache} every entry it maps or releases, in a {@link DirtySet} (one null check when no
 * audit is attached). The audit keeps, per slot, whether it was valid and its owner at the last
 * check, and per entry whether it was live, present (its HPTE there and matching) or stale; so the
 * totals the full check recounts (valid slots, live entries per cache, present and stale entries)
 * are sums it updates for the changed elements only; other entries with an entry's vpage are found
 * through the cache's own vpte hash list. A changed slot marks the entries that owned it before and
 * after.
 *
 * <h2>What each check covers</h2>
 *
 * <ul>
 *   <li>At every check: {@code htab.validCount()} and each cache's {@code count()} against the
 *       recount, and valid slots against present entries (a counter corrupted directly is found at
 *       once).
 *   <li>For every slot changed since the last check: a valid slot has an owner, the owner is a live
 *       entry that records this slot, and no other valid slot of its two PTEGs holds the same VPN
 *       (which would shadow one of them).
 *   <li>For every entry changed since the last check, and every entry whose slot changed: its links
 *       in the five hash lists ({@link ShadowPteCache#checkEntryLinks}); a live entry's HPTE is
 *       present, owned by it, matching its VPN and pfn (or, with Q5, it is counted stale), and the
 *       hardware search finds its slot; no other present entry of the vCPU has its (vpage, host
 *       VSID) while that VSID is in the vCPU's SID map.
 *   <li>An element found wrong stays marked, so it is reported at every check until repaired.
 *   <li>Not seen: changes behind these classes' methods (a raw array write: memory corruption, or a
 *       test injecting it) to elements nothing else touched, and an old pair of entries with one
 *       key made reachable again by a SID-map change alone. The full {@link
 *       HostMmuCore#checkInvariants()}, which a run calls at its end, finds those. The report's
 *       {@code unreachableEntries} is not counted (-1).
 * </ul>
 */
final class HostMmuAudit {
  private static final byte LIVE = 1;
  private static final byte PRESENT = 2;
  private static final byte STALE = 4;

  private final HostHtab htab;
  private final ShadowPteCache[] caches;
  private final SidMap[] sidMaps;
  private final DirtySet dirtySlots = new DirtySet();
  private final DirtySet[] dirtyEntries;

  private final byte[] slotValid;
  private final int[] slotOwner;
  private byte[][] entryState;
  private final int[] liveCount;

  private int valid;
  private int present;
  private int stale;

  HostMmuAudit(HostHtab htab, ShadowPteCache[] caches, SidMap[] sidMaps) {
    this.htab = htab;
    this.caches = caches;
    this.sidMaps = sidMaps;
    int n = caches.length;
    dirtyEntries = new DirtySet[n];
    entryState = new byte[n][0];
    liveCount = new int[n];
    slotValid = new byte[htab.slotCount()];
    slotOwner = new int[htab.slotCount()];
    Arrays.fill(slotOwner, -1);
    for (int s = 0; s < htab.slotCount(); s++) {
      if (htab.isValid(s)) {
        dirtySlots.add(s);
      }
    }
    for (int c = 0; c < n; c++) {
      dirtyEntries[c] = new DirtySet();
      for (HpteCacheEntry e : caches[c].entries()) {
        dirtyEntries[c].add(e.index());
      }
      caches[c].dirty = dirtyEntries[c];
    }
    htab.dirty = dirtySlots;
  }

  /** Checks what changed since the last check (class comment); {@code visitor} may be null. */
  InvariantReport check(HostMmuCore.EntryVisitor visitor) {
    List<String> v = new ArrayList<>(0);
    int[] slots = dirtySlots.drain();
    for (int s : slots) {
      if (!checkSlot(s, v)) {
        dirtySlots.add(s);
      }
    }
    for (int c = 0; c < caches.length; c++) {
      if (dirtyEntries[c].size() == 0 && liveCount[c] == caches[c].count()) {
        continue;
      }
      int[] entries = dirtyEntries[c].drain();
      for (int e : entries) {
        if (!checkEntry(c, e, v)) {
          dirtyEntries[c].add(e);
        }
        if (visitor != null && caches[c].isLive(e)) {
          visitor.visit(c, e);
        }
      }
      if (liveCount[c] != caches[c].count()) {
        v.add("vcpu " + c + ": count " + caches[c].count() + " != live entries " + liveCount[c]);
      }
    }
    if (valid != htab.validCount()) {
      v.add("htab validCount " + htab.validCount() + " != valid slots " + valid);
    }
    if (valid != present) {
      v.add("valid host HPTEs " + valid + " != live cache entries " + present);
    }
    return new InvariantReport(v.isEmpty() ? List.of() : v, present, stale, -1, valid);
  }

  /** Re-evaluates slot {@code s}; false if a violation was added. */
  private boolean checkSlot(int s, List<String> v) {
    boolean isValid = htab.isValid(s);
    int owner = isValid ? htab.ownerAt(s) : -1;
    markOwner(slotOwner[s]);
    markOwner(owner);
    valid += (isValid ? 1 : 0) - slotValid[s];
    slotValid[s] = (byte) (isValid ? 1 : 0);
    slotOwner[s] = owner;
    if (!isValid) {
      return true;
    }
    int before = v.size();
    if (owner < 0) {
      v.add("htab slot " + s + " is valid but has no owner");
    } else {
      int c = owner >>> 16;
      int e = owner & 0xFFFF;
      if (c >= caches.length || !caches[c].isLive(e) || caches[c].slotOf(e) != s) {
        v.add("htab slot " + s + " is owned by vcpu " + c + " entry " + e + ", which is not there");
      }
    }
    long vpn = htab.vpnAt(s);
    for (int k = 0; k < 2; k++) {
      int g = k == 0 ? htab.primaryGroup(vpn) : htab.secondaryGroup(vpn);
      for (int i = 0; i < HostHtab.HPTES_PER_GROUP; i++) {
        int o = g * HostHtab.HPTES_PER_GROUP + i;
        if (o != s && htab.vpnAt(o) == vpn && htab.isValid(o)) {
          v.add("htab slots " + s + " and " + o + " both hold vpn 0x" + Long.toHexString(vpn));
        }
      }
    }
    return v.size() == before;
  }

  private void markOwner(int token) {
    if (token >= 0 && (token >>> 16) < caches.length) {
      dirtyEntries[token >>> 16].add(token & 0xFFFF);
    }
  }

  /** Re-evaluates entry {@code e} of vCPU {@code c}; false if a violation was added. */
  private boolean checkEntry(int c, int e, List<String> v) {
    ShadowPteCache cache = caches[c];
    if (e >= entryState[c].length) {
      int cap = Math.max(e + 1, entryState[c].length * 2);
      entryState[c] = Arrays.copyOf(entryState[c], cap);
    }
    int before = v.size();
    List<String> links = cache.checkEntryLinks(e);
    if (links != null) {
      links.forEach(s -> v.add("vcpu " + c + ": " + s));
    }
    byte was = entryState[c][e];
    byte now = 0;
    if (cache.isLive(e)) {
      now = LIVE;
      int slot = cache.slotOf(e);
      if (present(c, e)) {
        now |= PRESENT;
        int found = htab.lookupSlot(cache.hostVpnOf(e));
        if (found != slot) {
          v.add(
              "vcpu " + c + ": entry " + e + " at slot " + slot + " is shadowed by slot " + found);
        }
      } else if (htab.q5()) {
        now |= STALE;
      } else {
        v.add("vcpu " + c + ": entry " + e + " has no matching host HPTE at " + slot);
      }
    }
    liveCount[c] += (now & LIVE) - (was & LIVE);
    present += ((now & PRESENT) - (was & PRESENT)) / PRESENT;
    stale += ((now & STALE) - (was & STALE)) / STALE;
    entryState[c][e] = now;
    if ((now & PRESENT) != 0) {
      long vsid = cache.hostVpnOf(e) >>> 16;
      boolean twin = false;
      for (int x = cache.nextWithVpage(e, -1); x >= 0 && !twin; x = cache.nextWithVpage(e, x)) {
        twin = cache.hostVpnOf(x) >>> 16 == vsid && present(c, x);
      }
      if (twin && reachable(c, vsid)) {
        v.add(
            "vcpu "
                + c
                + ": entry "
                + e
                + " and another reachable entry both map vpage 0x"
                + Long.toHexString(cache.vpageOf(e)));
      }
    }
    return v.size() == before;
  }

  /** True if live entry {@code e} of vCPU {@code c} has its HPTE (present, owned, matching). */
  private boolean present(int c, int e) {
    ShadowPteCache cache = caches[c];
    int slot = cache.slotOf(e);
    return htab.isValid(slot)
        && htab.ownerAt(slot) == HostMmuCore.ownerToken(c, e)
        && htab.vpnAt(slot) == cache.hostVpnOf(e)
        && htab.pfnAt(slot) == cache.pfnOf(e);
  }

  /** True if host VSID {@code vsid} is in vCPU {@code c}'s SID map. */
  private boolean reachable(int c, long vsid) {
    SidMap sid = sidMaps[c];
    for (int i = 0; i < SidMap.SID_MAP_NUM; i++) {
      if (sid.isValid(i) && sid.hostVsidAt(i) == vsid) {
        return true;
      }
    }
    return false;
  }
}
