package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.mmumesh.hostmmu.HostHtab;
import org.mmumesh.hostmmu.ShadowPteCache;

/**
 * The heap a host, a VM, a memory load, an event watcher or a workload batch can take on the node
 * that runs it, projected from the sizes a request gives before anything is allocated (the {@link
 * MemoryBudget} admits or refuses it). Pure: no state, no actor code.
 *
 * <p><b>How the constants were obtained.</b> Every large structure of the model is a set of
 * parallel primitive arrays, so its cost per entry is the sum of its arrays' element sizes, read
 * off the fields (cited at each constant), plus 16-byte array headers (64-bit HotSpot, compressed
 * oops; negligible next to the entries and left out). The fixed costs per vCPU, per VM and per host
 * (actor state, small tables, the sharding entity) were measured: {@code
 * org.mmumesh.bench.AdmissionFootprint} (run with {@code bin/mmumesh-bench admission}) creates VMs
 * and hosts through the mesh facade, starts every entity, and divides the retained heap (used after
 * {@code System.gc()}) by their number; it also walks the single structures with its reflective
 * sizer and prints them next to this class's figures. Its output ({@code -Xmx4g}, 16 of each) is
 * quoted at each measured constant. The storm VM of issue 10 (64 vCPUs, 65,536-entry TLBs, 16 MiB)
 * retains 116.5 MiB idle with every vCPU started (the issue saw about 105 MiB per VM); this class
 * projects about 402 MiB, most of it the 64 shadow-PTE caches at their largest (4.5 MiB each).
 *
 * <p><b>Upper bounds, not averages.</b> A structure that grows (the shadow-PTE cache, the guest
 * HTAB, guest pages) is counted at the largest size the request allows: a VM admitted within the
 * budget cannot later grow past it. Guest pages are counted at one private frame each (KSM merging
 * only lowers that; a COW break gives back at most the frame KSM took).
 */
public final class FootprintEstimator {
  private FootprintEstimator() {}

  /**
   * TLB bytes per entry: {@code Tlb}'s {@code long tags}, {@code long epochs}, {@code int slots},
   * {@code byte prots}, {@code int pfns} = 8 + 8 + 4 + 1 + 4.
   */
  public static final long TLB_ENTRY_BYTES = 25;

  /**
   * Shadow-PTE cache bytes per entry on a 64-bit host: {@code ShadowPteCache}'s {@code long eaddr,
   * vpage, raddr, hostVpn, pfn} (40), {@code int slot} (4), {@code byte hostPageSize, state} (2), a
   * {@code GuestPte} reference (4), {@code int freeNext} (4), and {@code int next, prev} per hash
   * list (8 x 5 lists = 40): 94; plus the {@code GuestPte} record each live entry holds (12-byte
   * header, three longs, three booleans, one reference: 43, padded to 48).
   */
  public static final long SHADOW_ENTRY_BYTES_64 = 94 + 48;

  /** The same on a 32-bit host: four hash lists (no 64 KiB list), so 8 bytes less. */
  public static final long SHADOW_ENTRY_BYTES_32 = 86 + 48;

  /**
   * The shadow-PTE cache's hash heads per vCPU, 64-bit host: {@code int[2^bits]} for the lists
   * {@code pte} (13 bits), {@code pte_long} (12), {@code vpte} (13), {@code vpte_long} (5), {@code
   * vpte_64k} (11) = (8192 + 4096 + 8192 + 32 + 2048) x 4.
   */
  public static final long SHADOW_HEADS_BYTES_64 =
      4L
          * ((1 << ShadowPteCache.HPTEG_HASH_BITS_PTE)
              + (1 << ShadowPteCache.HPTEG_HASH_BITS_PTE_LONG)
              + (1 << ShadowPteCache.HPTEG_HASH_BITS_VPTE)
              + (1 << ShadowPteCache.HPTEG_HASH_BITS_VPTE_LONG)
              + (1 << ShadowPteCache.HPTEG_HASH_BITS_VPTE_64K));

  /** The same on a 32-bit host (no {@code vpte_64k} list). */
  public static final long SHADOW_HEADS_BYTES_32 =
      SHADOW_HEADS_BYTES_64 - 4L * (1 << ShadowPteCache.HPTEG_HASH_BITS_VPTE_64K);

  /**
   * Host HTAB bytes per HPTE slot ({@code HostHtab}'s {@code long word0, word1, vpn} and {@code int
   * owner}: 8 + 8 + 8 + 4); a VM's host HTAB has {@code ptegCount x} {@value
   * HostHtab#HPTES_PER_GROUP} slots, allocated when its HostMmu starts.
   */
  public static final long HOST_HPTE_BYTES = 28;

  /**
   * What the host HTAB really takes, per byte of its arrays: the default table's arrays are 1 MiB
   * ({@code long[131072]}) and 512 KiB, at or above G1's humongous threshold (half a region;
   * regions are 1 MiB below 2 GiB of heap, 2 MiB from 4 to 8 GiB), so each takes whole regions of
   * its own, up to twice its size. Measured: a started VM of one vCPU retains 7.3 MB at {@code
   * -Xmx4g} where its structures walk to 4.1 MB, the difference being the three 1 MiB arrays in 2
   * MiB regions.
   */
  public static final long HUMONGOUS_FACTOR = 2;

  /**
   * Bytes per guest page that a fault or a load can populate: its host PTE ({@code HostMm}, an
   * {@code int}: 4) and one private frame ({@code FrameTable}: fingerprint 8, map count 4,
   * generation 4, flags 1 = 17).
   */
  public static final long PAGE_BYTES = 4 + 17;

  /**
   * Extra bytes per page of a mergeable VM: its KSM rmap item ({@code RmapItems}: 4 + 4 + 1 + 1 =
   * 10) and at most one stable-tree node ({@code StableTree}: {@code long key}, {@code int kpfn,
   * kgen, items, refs}, {@code boolean inTree} = 25, plus its open-addressing table slot, a {@code
   * long} at a load factor of at most 1/2: 16).
   */
  public static final long KSM_PAGE_BYTES = 10 + 25 + 16;

  /**
   * Fixed bytes per vCPU besides its TLB and shadow-PTE cache: the {@code Vcpu} entity (store
   * buffer of 1024 stores, {@code int pfn, int offset, long value}: 16 KiB; counters, C-bit watch,
   * recorder), its SID map on the host MMU (512 x 17 bytes on a 64-bit host; a 32-bit host's VSID
   * pool is 128 x 16 x 8 = 16 KiB), its guest MMU state, and the sharding entity. Measured by
   * {@code AdmissionFootprint}: 154,742 bytes per extra vCPU of a started VM, of which 90,240 are
   * the shadow heads and 24,064 the cache's 256 initial entries (both in the cache's bound),
   * leaving 40 KB.
   */
  public static final long VCPU_FIXED_BYTES = 64L * 1024;

  /**
   * Fixed bytes per VM: GuestMmu and HostMmu with the guest kernel's state, the first chunk of its
   * host page table ({@code HostMm}: 65,536 {@code int}s, 256 KiB, allocated at the first touch
   * whatever the memory size), the directory entry. Measured by {@code AdmissionFootprint}: a
   * started VM of one vCPU and 1 MiB retains 7,315,705 bytes at {@code -Xmx4g}, about 650 KB above
   * its host HTAB (at {@link #HUMONGOUS_FACTOR}) and its vCPU.
   */
  public static final long VM_FIXED_BYTES = 1024L * 1024;

  /**
   * Fixed bytes per host: its {@code PageFrame} entity (ksmd included) with its first frame chunk
   * (1024 frames x 17 bytes), the zero page, KSM's trees at their initial sizes. Measured by {@code
   * AdmissionFootprint}: 44,207 bytes per started host; the bound leaves room for the frame table's
   * first chunk growing to its full 32,768 frames (557 KB, partly counted with the pages).
   */
  public static final long HOST_FIXED_BYTES = 256L * 1024;

  /**
   * Bytes per event an event watcher's backlog can hold: the measurement (300 unread
   * watchers held about 590 KB each with 10,000-event backlogs), about 59 bytes per event.
   */
  public static final long EVENT_BYTES = 64;

  /**
   * Bytes per access of a workload batch while the gateway holds it: the decoded request (a {@code
   * WorkloadAccess} message, about 40 bytes, or its share of the packed arrays), the {@code
   * AccessOp} record it becomes (12-byte header, a reference, two longs: 32) and the list slot (4),
   * rounded up.
   */
  public static final long BATCH_ACCESS_BYTES = 80;

  /**
   * Bytes per page of a LoadMemory call while it runs: the image's copy ({@code toByteArray}, 4096)
   * and the fingerprint (8), plus one in-flight {@code Populate} ask and its future (about 200).
   */
  public static final long LOAD_PAGE_BYTES = 4096 + 8 + 200;

  /** One part of a footprint: what it is, the request fields that size it, its bytes. */
  public record Part(String what, String drivenBy, long bytes) {}

  /** A projected footprint: its parts and their total. */
  public record Footprint(List<Part> parts) {
    /** Copies the list. */
    public Footprint {
      parts = List.copyOf(parts);
    }

    /** The total bytes (saturating at {@link Long#MAX_VALUE}). */
    public long bytes() {
      long sum = 0;
      for (Part p : parts) {
        sum = sat(sum + p.bytes());
      }
      return sum;
    }

    /** The largest part: what drives the footprint. */
    public Part largest() {
      return parts.stream().max(Comparator.comparingLong(Part::bytes)).orElseThrow();
    }
  }

  /**
   * A VM's shape as the request gives it.
   *
   * @param host32 on a 32-bit host
   * @param guest64 a 64-bit guest (its HTAB words are 8 bytes, a 32-bit guest's 4)
   * @param memoryPages guest-real memory, 4 KiB pages
   * @param vcpus vCPUs
   * @param tlbEntries TLB entries per vCPU
   * @param hostPtegCount the host HTAB's PTEGs
   * @param htabBytes the guest HTAB's size
   * @param mergeable whether KSM scans its pages
   */
  public record VmShape(
      boolean host32,
      boolean guest64,
      long memoryPages,
      int vcpus,
      int tlbEntries,
      int hostPtegCount,
      long htabBytes,
      boolean mergeable) {}

  /** The shape of a directory entry. */
  public static VmShape shape(MeshDirectory.VmEntry e) {
    return new VmShape(
        e.host32(),
        e.is64(),
        e.memoryPages(),
        e.vcpus(),
        e.tlbEntries(),
        e.hostMmu().ptegCount(),
        e.htabBytes(),
        e.mergeable());
  }

  /** The heap a VM of shape {@code s} can take once every entity of it runs. */
  public static Footprint vm(VmShape s) {
    List<Part> parts = new ArrayList<>();
    long vcpus = s.vcpus();
    parts.add(
        new Part(
            "TLBs",
            "tlb_entries " + s.tlbEntries() + " x vcpu_count " + s.vcpus(),
            sat(vcpus * s.tlbEntries() * TLB_ENTRY_BYTES)));
    long perEntry = s.host32() ? SHADOW_ENTRY_BYTES_32 : SHADOW_ENTRY_BYTES_64;
    long heads = s.host32() ? SHADOW_HEADS_BYTES_32 : SHADOW_HEADS_BYTES_64;
    parts.add(
        new Part(
            "shadow-PTE caches (" + ShadowPteCache.HPTEG_CACHE_NUM + " entries each at most)",
            "vcpu_count " + s.vcpus(),
            sat(vcpus * (heads + (long) ShadowPteCache.HPTEG_CACHE_NUM * perEntry))));
    parts.add(
        new Part(
            "vCPU state (store buffer, SID map, counters)",
            "vcpu_count " + s.vcpus(),
            vcpus * VCPU_FIXED_BYTES));
    parts.add(
        new Part(
            "host HTAB",
            "the host HTAB's " + s.hostPtegCount() + " PTEGs",
            (long) s.hostPtegCount()
                * HostHtab.HPTES_PER_GROUP
                * HOST_HPTE_BYTES
                * HUMONGOUS_FACTOR));
    long wordBytes = s.guest64() ? 8 : 4;
    parts.add(
        new Part(
            "guest HTAB",
            "memory_size_bytes " + (s.memoryPages() << 12) + " (the HTAB is sized from it)",
            sat(s.htabBytes() / wordBytes * 8)));
    parts.add(
        new Part(
            "guest pages",
            "memory_size_bytes " + (s.memoryPages() << 12),
            pages(s.memoryPages(), s.mergeable())));
    parts.add(new Part("VM entities", "one per VM", VM_FIXED_BYTES));
    return new Footprint(parts);
  }

  /** The heap {@code pages} populated guest pages can take. */
  public static long pages(long pages, boolean mergeable) {
    return sat(pages * (PAGE_BYTES + (mergeable ? KSM_PAGE_BYTES : 0)));
  }

  /**
   * The heap a host takes before any VM runs on it (its frames are counted with its VMs' pages).
   */
  public static Footprint host() {
    return new Footprint(
        List.of(new Part("host entities (page frames, KSM)", "one per host", HOST_FIXED_BYTES)));
  }

  /** The heap a LoadMemory of {@code pages} pages holds while it runs. */
  public static long load(long pages) {
    return sat(pages * LOAD_PAGE_BYTES);
  }

  /** The heap an event watcher whose backlog holds {@code events} can take. */
  public static long watcher(long events) {
    return sat(events * EVENT_BYTES);
  }

  /** The heap a workload batch of {@code accesses} accesses holds while it runs. */
  public static long batch(long accesses) {
    return sat(accesses * BATCH_ACCESS_BYTES);
  }

  private static long sat(long v) {
    return v < 0 ? Long.MAX_VALUE : v;
  }
}
