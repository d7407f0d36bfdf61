package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.function.Consumer;
import org.mmumesh.mesh.MeshDirectory.Loss;
import org.mmumesh.mesh.MeshDirectory.Placement;

/**
 * What one node knows of where the entities' state lives and what state was lost: the part of the
 * {@link MeshDirectory} that keeps the mesh from ever serving an empty restart as if it were the
 * entity (issue 12 item 8). Pure: no Pekko; thread-safe (concurrent maps of immutable records).
 *
 * <p><b>Placements.</b> Every entity records, when it first starts, its type, id and node ({@link
 * Placement}); the record goes to every node's directory like any other directory change. Entity
 * state lives in memory only and is never handed over (shards are never rebalanced, {@link
 * StatefulShardAllocation}), so an entity that starts on a node other than its placement's is a
 * restart without its state: {@link #refusal} says so, and the entity factories then build an
 * entity that rejects every command with that reason instead of serving empty state. (A vCPU that
 * parked and restarts on its own node is not a restart without state: its counters and state wait
 * for it in the node's parking store.)
 *
 * <p><b>Losses.</b> When a member leaves the cluster (downed, or removed after leaving), every node
 * works out from the placements at its address which VMs and hosts had state there ({@link
 * #lossesOf}) and records a {@link Loss} for each; the facade then refuses every call on a lost VM
 * or host with {@link #why}'s message, and calls already waiting on it are ended by the {@link
 * #watch}ers. Both records only grow (placements keep the lowest node address for an entity, losses
 * are a set), so merging them from other nodes in any order, any number of times, gives the same
 * result.
 */
final class LostEntities {
  private static final Comparator<Loss> ORDER =
      Comparator.comparing(Loss::kind)
          .thenComparingInt(Loss::id)
          .thenComparing(Loss::node)
          .thenComparing(Loss::what);

  private final ConcurrentHashMap<String, Placement> placements = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Set<Loss>> losses = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Set<Consumer<String>>> watchers =
      new ConcurrentHashMap<>();

  private static String key(String kind, int id) {
    return kind + "-" + id;
  }

  private static String key(Placement p) {
    return p.entityType() + "|" + p.entityId();
  }

  /**
   * Records {@code p} (for the same entity the lowest node address is kept).
   *
   * @return whether this changed the record
   */
  boolean place(Placement p) {
    Placement[] before = new Placement[1];
    Placement after =
        placements.compute(
            key(p),
            (k, old) -> {
              before[0] = old;
              return old == null || p.node().compareTo(old.node()) < 0 ? p : old;
            });
    return !after.equals(before[0]);
  }

  /** Where entity {@code entityType}/{@code entityId} first started, if known here. */
  Optional<Placement> placement(String entityType, String entityId) {
    return Optional.ofNullable(placements.get(entityType + "|" + entityId));
  }

  /** Every placement known here. */
  List<Placement> placements() {
    return List.copyOf(new TreeMap<>(placements).values());
  }

  /**
   * Records loss {@code l} and tells the watchers of its VM or host.
   *
   * @return whether it was new here
   */
  boolean add(Loss l) {
    String k = key(l.kind(), l.id());
    boolean added = losses.computeIfAbsent(k, x -> new ConcurrentSkipListSet<>(ORDER)).add(l);
    if (added) {
      String why = why(l.kind(), l.id()).orElseThrow();
      for (Consumer<String> w : watchers.getOrDefault(k, Set.of())) {
        w.accept(why);
      }
    }
    return added;
  }

  /** Every loss known here. */
  List<Loss> losses() {
    List<Loss> out = new ArrayList<>();
    new TreeMap<>(losses).values().forEach(out::addAll);
    return out;
  }

  /**
   * The caller-readable reason VM or host {@code id} ({@code kind} {@value MeshDirectory#VM} or
   * {@value MeshDirectory#HOST}) cannot serve, naming it, each lost node and what was lost there;
   * empty while nothing of it was lost.
   */
  Optional<String> why(String kind, int id) {
    Set<Loss> ls = losses.get(key(kind, id));
    if (ls == null || ls.isEmpty()) {
      return Optional.empty();
    }
    StringBuilder b = new StringBuilder(kind).append(' ').append(id).append(" is lost: ");
    String sep = "";
    for (Loss l : ls) {
      b.append(sep).append("node ").append(l.node()).append(" left the cluster with its ");
      b.append(l.what());
      sep = "; ";
    }
    b.append(
        " (entity state lives in memory only and is not handed over to another node); delete the "
            + kind
            + " and create it anew");
    return Optional.of(b.toString());
  }

  /**
   * Calls {@code onLoss} with {@link #why}'s reason when VM or host {@code id} is lost (at once if
   * it already is); the returned handle stops watching (call it when the watched call ended, so
   * watchers do not pile up on a VM that is never lost).
   */
  Runnable watch(String kind, int id, Consumer<String> onLoss) {
    String k = key(kind, id);
    Set<Consumer<String>> set = watchers.computeIfAbsent(k, x -> ConcurrentHashMap.newKeySet());
    set.add(onLoss);
    why(kind, id).ifPresent(onLoss);
    return () -> set.remove(onLoss);
  }

  /**
   * Entity {@code entityType}/{@code entityId} starting on node {@code self}: records its placement
   * when it has none and answers empty; answers why it must not serve when its state lived on
   * another node (a restart without state).
   */
  Optional<String> refusal(String entityType, String entityId, String self) {
    Placement mine = new Placement(entityType, entityId, self);
    Placement first = placements.putIfAbsent(key(mine), mine);
    if (first == null || first.node().equals(self)) {
      return Optional.empty();
    }
    return Optional.of(
        entityType
            + " "
            + entityId
            + " started on "
            + self
            + " but its state was on node "
            + first.node()
            + ", which left the cluster: it refuses to serve rather than serve empty state"
            + " (entity state is in memory only and is not handed over)");
  }

  /**
   * The losses of node {@code node} leaving: for each VM, its guest MMU, host MMU and vCPUs that
   * started there; for each host, its page frames (with ksmd, which lives in them), and then every
   * VM of {@code vmsByHost} on that host loses its memory too.
   */
  List<Loss> lossesOf(String node, Map<Integer, List<Integer>> vmsByHost) {
    Map<Integer, List<String>> vmParts = new TreeMap<>();
    Map<Integer, TreeSet<Integer>> vcpus = new TreeMap<>();
    Map<Integer, List<String>> hostParts = new TreeMap<>();
    for (Placement p : placements()) {
      if (!p.node().equals(node)) {
        continue;
      }
      switch (p.entityType()) {
        case "GuestMmu" -> part(vmParts, vmOf(p), "guest MMU");
        case "HostMmu" -> part(vmParts, vmOf(p), "host MMU");
        case "Vcpu" -> {
          int[] id = org.mmumesh.vcpu.actor.Vcpu.vmAndVcpuOf(p.entityId());
          vcpus.computeIfAbsent(id[0], v -> new TreeSet<>()).add(id[1]);
        }
        case "PageFrame" -> part(hostParts, hostOf(p), "page frames and ksmd");
        default -> {
          // an entity type this version does not know holds nothing of ours
        }
      }
    }
    vcpus.forEach(
        (vm, ns) -> part(vmParts, vm, "vCPU" + (ns.size() > 1 ? "s " : " ") + ranges(ns)));
    List<Loss> out = new ArrayList<>();
    hostParts.forEach(
        (h, parts) -> {
          out.add(new Loss(MeshDirectory.HOST, h, node, String.join(", ", parts)));
          if (parts.contains("page frames and ksmd")) {
            for (int vm : vmsByHost.getOrDefault(h, List.of())) {
              part(vmParts, vm, "memory (host " + h + "'s page frames)");
            }
          }
        });
    vmParts.forEach(
        (vm, parts) -> out.add(new Loss(MeshDirectory.VM, vm, node, String.join(", ", parts))));
    return out;
  }

  private static void part(Map<Integer, List<String>> parts, int id, String what) {
    List<String> l = parts.computeIfAbsent(id, x -> new ArrayList<>());
    if (!l.contains(what)) {
      l.add(what);
    }
  }

  private static int vmOf(Placement p) {
    return org.mmumesh.hostmmu.actor.HostMmu.vmOf(p.entityId());
  }

  private static int hostOf(Placement p) {
    String id = p.entityId();
    return Integer.parseInt(id.substring(id.indexOf('-') + 1));
  }

  /** {@code 0-1, 3} for {0, 1, 3}. */
  static String ranges(TreeSet<Integer> ns) {
    StringBuilder b = new StringBuilder();
    Integer start = null;
    Integer prev = null;
    for (int n : ns) {
      if (prev != null && n == prev + 1) {
        prev = n;
        continue;
      }
      if (start != null) {
        b.append(b.length() > 0 ? ", " : "")
            .append(start)
            .append(start.equals(prev) ? "" : "-" + prev);
      }
      start = n;
      prev = n;
    }
    if (start != null) {
      b.append(b.length() > 0 ? ", " : "")
          .append(start)
          .append(start.equals(prev) ? "" : "-" + prev);
    }
    return b.toString();
  }
}
