package org.mmumesh.common;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * One thing the simulation did that a watcher may want to see (issue 5's event feed): a vCPU exit
 * (fault), a host HPTE installed (map), shadow PTEs flushed (invalidation), a page merged by KSM
 * (merge), or a copy-on-write break. Every actor publishes this one shape through its node's {@link
 * MeshEventBus}; it crosses nodes to watchers elsewhere in the cluster, hence {@link
 * CborSerializable}.
 *
 * <p>Fields that do not apply to a kind are {@link #NONE} (-1): an invalidation of a guest-frame
 * range has no vCPU and no effective address, a merge has no vCPU. An effective address of all ones
 * is therefore indistinguishable from "none" (a fault at the last byte of the address space).
 *
 * @param kind what happened
 * @param hostId the host (its PageFrame) the event concerns; {@link #NONE} when the publishing
 *     actor does not know its host (a vCPU or a host MMU) and no directory on its node could tell
 *     ({@link MeshEventBus#hostOfVm})
 * @param vmId the VM
 * @param vcpu the vCPU index, or {@link #NONE}
 * @param ea the effective address (the DAR or the PC of a fault, the EA mapped), or {@link #NONE}
 * @param gfn the guest frame number (the first of a range), or {@link #NONE}
 * @param pfn the host frame number (mapped, the copy of a COW, the KSM page merged into), or {@link
 *     #NONE}
 * @param detail human-readable detail, e.g. {@code "NOHPTE store"}, {@code "map ro"}, {@code
 *     "notifier range 0x10-0x11 removed 2"}
 */
public record MeshEvent(
    Kind kind, int hostId, int vmId, int vcpu, long ea, long gfn, long pfn, String detail)
    implements CborSerializable {

  /** A field that does not apply. */
  public static final int NONE = -1;

  /** What happened. */
  public enum Kind {
    /** A vCPU exit: NOHPTE, PROTFAULT or NOEXEC (spec 6.1). */
    FAULT,
    /** A host HPTE installed by {@code kvmppc_mmu_map_page}, read-only or read-write. */
    MAP,
    /**
     * Shadow PTEs flushed: {@code pte_flush}/{@code pte_vflush}, a notifier range, a full flush.
     */
    INVALIDATION,
    /** KSM {@code replace_page}: a guest page now maps a shared KSM page (spec 7.4). */
    MERGE,
    /** A copy-on-write break: a write to a shared (KSM, zero or forked) page got a private copy. */
    COW_BREAK
  }

  /** Checks that kind and detail are present. */
  public MeshEvent {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(detail, "detail");
  }

  /** This event with {@code hostId} (the bus fills a host its publisher did not know). */
  public MeshEvent withHost(int hostId) {
    return new MeshEvent(kind, hostId, vmId, vcpu, ea, gfn, pfn, detail);
  }

  /**
   * Which events a watcher wants.
   *
   * @param kinds the kinds; empty: every kind
   * @param hostId only this host, or {@link #NONE} for every host (an event whose host is unknown
   *     does not match a host filter)
   * @param vmId only this VM, or {@link #NONE} for every VM
   */
  public record Filter(Set<Kind> kinds, int hostId, int vmId) implements CborSerializable {
    /** Every event. */
    public static final Filter ALL = new Filter(Set.of(), NONE, NONE);

    /** Copies the kinds; checks the ids are {@link #NONE} or non-negative. */
    public Filter {
      kinds = kinds == null || kinds.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(kinds));
      Checks.inRange("hostId", hostId, NONE, Integer.MAX_VALUE);
      Checks.inRange("vmId", vmId, NONE, Integer.MAX_VALUE);
    }

    /** True if {@code e} passes this filter. */
    public boolean test(MeshEvent e) {
      return (kinds.isEmpty() || kinds.contains(e.kind()))
          && (hostId == NONE || hostId == e.hostId())
          && (vmId == NONE || vmId == e.vmId());
    }
  }
}
