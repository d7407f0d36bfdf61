package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.common.Quirk;
import org.mmumesh.hostmmu.ShadowDump;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.actor.PageFrame;

/**
 * The mesh's invariant check, the one both a static run ({@link MeshCluster#invariantViolations},
 * after lockstep rounds with {@code --check-invariants}) and the API ({@link
 * Simulation#checkInvariants}) use. It checks every host and VM in this node's {@link
 * MeshDirectory}, asking the entities through this node's {@link NodeGlue}, all at once, and
 * changes nothing:
 *
 * <ul>
 *   <li>per host, its page frames ({@code PageFrame.CheckInvariants}: frame states, map counts,
 *       memslots; incrementally also the KSM scanner's counters), one line each {@code host H
 *       page-frame: ...} (or {@code host H ksm: ...});
 *   <li>per host, in the full check, the KSM scanner's counters against a recount ({@code
 *       PageFrame.GetKsmCounters}), {@code host H ksm: ...};
 *   <li>per VM, its host MMU ({@code HostMmu.CheckInvariants}), {@code vm V host-mmu: ...};
 *   <li>per host, across its VMs' shadow caches, since no actor answers which host frame is shared:
 *       a present writable shadow entry's frame is mapped by no other (vm, gfn) (architecture
 *       invariant 1 as the shadow caches show it, {@link #writableSharedFrames}), {@code host H
 *       shadow: ...}.
 * </ul>
 *
 * <p>The shadow-cache check is skipped on a host one of whose VMs has quirk Q8: there a notifier
 * only requests a full flush, and the HPTEs stay (harmlessly: the vCPU is out of the guest and must
 * flush before it enters again) until each vCPU's next guest entry, so an idle vCPU may
 * legitimately hold a writable HPTE of a frame since freed and reused; {@code HostMmu} does not say
 * which vCPUs have a flush pending, which the check would need to exclude their entries. Call it
 * while the vCPUs are idle (after a lockstep round, after a run, or whenever a client's vCPUs are).
 *
 * <p>With {@code incremental} (after each lockstep round of {@code --check-invariants}), the page
 * frames and each host MMU check only what changed since the previous incremental check ({@code
 * PageFrames}, {@code KsmScanner} and {@code HostMmuCore} say exactly what each covers), and the
 * shadow-cache check, which needs every VM's whole shadow state, runs only at rounds 1, 2, 4, 8 ...
 * (so its cost stays a fraction of the run's, whatever the run's length).
 */
final class MeshInvariants {
  private final NodeGlue glue;
  private final MeshVms vms;

  /** Checks the entities {@code glue}'s directory lists, asking through {@code vms}. */
  MeshInvariants(NodeGlue glue, MeshVms vms) {
    this.glue = glue;
    this.vms = vms;
  }

  /** The full check of every host and VM. */
  CompletionStage<Simulation.InvariantReport> check() {
    return check(false, 0);
  }

  /**
   * The check (see the class comment), incrementally if {@code incremental}; {@code round} (1 or
   * more) picks the incremental checks that include the shadow-cache check.
   */
  CompletionStage<Simulation.InvariantReport> check(boolean incremental, int round) {
    MeshDirectory dir = glue.directory();
    // Lost hosts and VMs are left out: their entities would be empty restarts that refuse.
    List<MeshDirectory.HostEntry> hosts =
        dir.hosts().stream().filter(h -> dir.hostLost(h.hostId()).isEmpty()).toList();
    List<MeshDirectory.VmEntry> all =
        dir.vms().stream().filter(v -> dir.vmLost(v.vmId()).isEmpty()).toList();
    boolean shadowRound = !incremental || Integer.bitCount(round) == 1;
    List<CompletableFuture<List<String>>> parts = new ArrayList<>();
    for (MeshDirectory.HostEntry h : hosts) {
      int hostId = h.hostId();
      parts.add(frames(hostId, incremental));
      if (!incremental) {
        parts.add(ksmCounters(hostId));
      }
      List<MeshDirectory.VmEntry> mine = all.stream().filter(e -> e.hostId() == hostId).toList();
      if (shadowRound
          && mine.stream().noneMatch(e -> e.options().has(Quirk.Q8_NOTIFIER_FULL_FLUSH))) {
        parts.add(writableShared(hostId, mine));
      }
    }
    for (MeshDirectory.VmEntry e : all) {
      int vmId = e.vmId();
      parts.add(
          vms.<HostMmu.Command, HostMmu.InvariantsReply>ask(
                  glue.vm(vmId).host(), r -> new HostMmu.CheckInvariants(incremental, r))
              .thenApply(r -> prefixed("vm " + vmId + " host-mmu: ", r.violations()))
              .toCompletableFuture());
    }
    return CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0]))
        .thenApply(
            x -> {
              List<String> out = new ArrayList<>();
              parts.forEach(p -> out.addAll(p.join()));
              return new Simulation.InvariantReport(List.copyOf(out), hosts.size(), all.size());
            });
  }

  private CompletableFuture<List<String>> frames(int hostId, boolean incremental) {
    return vms.<PageFrame.Command, PageFrame.InvariantsReply>ask(
            glue.frames(hostId), r -> new PageFrame.CheckInvariants(incremental, r))
        .thenApply(
            r ->
                r.violations().stream()
                    .map(
                        v -> "host " + hostId + (v.startsWith("ksm: ") ? " " : " page-frame: ") + v)
                    .toList())
        .toCompletableFuture();
  }

  private CompletableFuture<List<String>> ksmCounters(int hostId) {
    return vms.call(
            glue.frames(hostId),
            (Long id, ActorRef<PageFrame.KsmReply> r) -> new PageFrame.GetKsmCounters(id, r),
            PageFrame.KsmCounters.class)
        .thenApply(c -> prefixed("host " + hostId + " ksm: ", c.violations()))
        .toCompletableFuture();
  }

  /** {@link #writableSharedFrames} over the shadow caches of host {@code hostId}'s VMs. */
  private CompletableFuture<List<String>> writableShared(
      int hostId, List<MeshDirectory.VmEntry> mine) {
    Map<Integer, CompletableFuture<HostMmu.ShadowDumped>> dumps = new LinkedHashMap<>();
    for (MeshDirectory.VmEntry e : mine) {
      dumps.put(
          e.vmId(),
          vms.<HostMmu.Command, HostMmu.ShadowDumped>ask(
                  glue.vm(e.vmId()).host(), HostMmu.DumpShadow::new)
              .toCompletableFuture());
    }
    return CompletableFuture.allOf(dumps.values().toArray(new CompletableFuture<?>[0]))
        .thenApply(
            x -> {
              Map<Integer, ShadowDump> byVm = new TreeMap<>();
              dumps.forEach((vm, d) -> byVm.put(vm, d.join().dump()));
              return prefixed("host " + hostId + " ", writableSharedFrames(byVm));
            });
  }

  /**
   * Across the VMs' shadow caches ({@code byVm}: VM id to its dump): every host frame that a
   * present, writable shadow entry maps while another (vm, gfn) maps it too (architecture invariant
   * 1 as the shadow caches show it: a writable mapping of a shared frame), one line per frame.
   */
  static List<String> writableSharedFrames(Map<Integer, ShadowDump> byVm) {
    Map<Long, Set<String>> owners = new TreeMap<>();
    Set<Long> writable = new TreeSet<>();
    byVm.forEach(
        (vm, dump) -> {
          for (List<ShadowDump.ShadowEntry> cache : dump.vcpus()) {
            for (ShadowDump.ShadowEntry e : cache) {
              if (e.hptePresent()) {
                owners
                    .computeIfAbsent(e.pfn(), p -> new TreeSet<>())
                    .add("vm " + vm + " gfn " + e.gfn());
                if (e.writable()) {
                  writable.add(e.pfn());
                }
              }
            }
          }
        });
    List<String> out = new ArrayList<>();
    for (long pfn : writable) {
      Set<String> who = owners.get(pfn);
      if (who.size() > 1) {
        out.add("shadow: pfn " + pfn + " mapped writable, and shared by " + who);
      }
    }
    return out;
  }

  private static List<String> prefixed(String prefix, List<String> violations) {
    return violations.stream().map(v -> prefix + v).toList();
  }
}
