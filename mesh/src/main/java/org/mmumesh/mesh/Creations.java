package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * What creating and deleting hosts and VMs must agree on, for the hosts and VMs areas of one {@link
 * MeshSimulation} (guarded by this object): the host and VM ids ever used (ids are not reused
 * within a cluster's lifetime: a deleted VM's entities keep running with the old configuration,
 * sharded entities cannot be stopped cleanly across nodes), the VMs admitted whose entry this
 * node's directory does not show yet, and the {@link Admission} (host and VM limits, counting those
 * being created, and the node's {@link MemoryBudget}).
 *
 * <p>A create is admitted in the same synchronized step as its id checks, before its asynchronous
 * directory write; a delete gives the admission back. A failed create gives it back only once the
 * host or VM certainly never appears ({@link #admitted}): at once when its directory write was
 * never sent; otherwise the write may still land (an ask that timed out under load is not a write
 * that did not happen), so the create first removes the id from every node (a tombstone, which
 * refuses any later put of it, see {@link MeshDirectory}) and frees the slot when that removal
 * answered; if it does not answer, the slot stays held (the id is never reused anyway). A failed
 * create is answered with its own failure, never with the limit.
 */
final class Creations {
  /** Attempts at removing a host or VM whose create failed after its write was sent. */
  static final int UNDO_ATTEMPTS = 3;

  private final ActorSystem<?> system;
  private final MeshDirectory dir;
  private final Admission admission;

  private final Set<Integer> usedHostIds = new HashSet<>();
  private final Set<Integer> usedVmIds = new HashSet<>();

  /** VMs admitted whose entry this node's directory does not show yet, with their host frames. */
  private final Map<Integer, PendingVm> pendingVms = new HashMap<>();

  /** A VM being created: its host and the frames its memory commits there. */
  private record PendingVm(int hostId, long pages) {}

  /** Bookkeeping against {@code dir} (the node of {@code system}), within {@code admission}. */
  Creations(ActorSystem<?> system, MeshDirectory dir, Admission admission) {
    this.system = Objects.requireNonNull(system, "system");
    this.dir = Objects.requireNonNull(dir, "dir");
    this.admission = Objects.requireNonNull(admission, "admission");
  }

  /** The admission (its budget is the node's). */
  Admission admission() {
    return admission;
  }

  /** Claims host id {@code hostId} and admits the host; ALREADY_EXISTS or LIMIT otherwise. */
  synchronized void admitHost(int hostId) {
    if (usedHostIds.contains(hostId) || dir.host(hostId).isPresent() || dir.hostDeleted(hostId)) {
      throw SimulationException.alreadyExists(
          "host "
              + hostId
              + " already exists (or existed: host ids are not reused within a cluster's"
              + " lifetime)");
    }
    admission.admitHost(hostId);
    usedHostIds.add(hostId);
  }

  /** The VMs on host {@code hostId}, registered or being created. */
  synchronized List<Integer> vmsOn(int hostId) {
    List<Integer> on = new ArrayList<>();
    for (MeshDirectory.VmEntry v : dir.vms()) {
      if (v.hostId() == hostId) {
        on.add(v.vmId());
      }
    }
    committedFrames(hostId); // drops the pending VMs the directory shows
    for (Map.Entry<Integer, PendingVm> p : pendingVms.entrySet()) {
      if (p.getValue().hostId() == hostId) {
        on.add(p.getKey());
      }
    }
    return on;
  }

  /**
   * Claims VM id {@code e.vmId()} on host {@code h} and admits the VM: ALREADY_EXISTS for a taken
   * (or once used) id, LIMIT when the host's frames would be exceeded or the {@link Admission}
   * refuses it.
   */
  synchronized void admitVm(MeshDirectory.HostEntry h, MeshDirectory.VmEntry e) {
    int vmId = e.vmId();
    if (usedVmIds.contains(vmId) || dir.vm(vmId).isPresent() || dir.vmDeleted(vmId)) {
      throw SimulationException.alreadyExists(
          "vm "
              + vmId
              + " already exists (or existed: VM ids are not reused within a cluster's"
              + " lifetime)");
    }
    long committed = committedFrames(h.hostId());
    if (committed + e.memoryPages() > h.maxFrames()) {
      throw SimulationException.limit(
          "host "
              + h.hostId()
              + ": "
              + committed
              + " of its "
              + h.maxFrames()
              + " frames are committed to vms; this vm needs "
              + e.memoryPages());
    }
    admission.admitVm(vmId, FootprintEstimator.shape(e));
    usedVmIds.add(vmId);
    pendingVms.put(vmId, new PendingVm(h.hostId(), e.memoryPages()));
  }

  /** Gives back the admission of VM {@code vmId}, whose create failed. */
  void vmFailed(int vmId) {
    admission.vmFailed(vmId);
    synchronized (this) {
      pendingVms.remove(vmId);
    }
  }

  /**
   * The frames of host {@code hostId} committed to VMs: those in the directory and those being
   * created that it does not show yet (each counted once). Holds this object's lock.
   */
  private long committedFrames(int hostId) {
    pendingVms.keySet().removeIf(id -> dir.vm(id).isPresent() || dir.vmDeleted(id));
    long n = 0;
    for (MeshDirectory.VmEntry v : dir.vms()) {
      if (v.hostId() == hostId) {
        n += v.memoryPages();
      }
    }
    for (PendingVm p : pendingVms.values()) {
      if (p.hostId() == hostId) {
        n += p.pages();
      }
    }
    return n;
  }

  /**
   * {@code write}, the asynchronous directory write of {@code what}, admitted; it calls its {@code
   * Runnable} right before the write is sent. When it fails, the admission is given back ({@code
   * free}) only once {@code what} certainly never appears: at once if nothing was sent; else after
   * {@code remove} (the id's removal from every node, a tombstone) answered, tried {@value
   * #UNDO_ATTEMPTS} times; if it never does, the slot stays held. The stage fails with the write's
   * own failure, after that.
   */
  <T> CompletionStage<T> admitted(
      Function<Runnable, CompletionStage<T>> write,
      Supplier<CompletionStage<Void>> remove,
      Runnable free,
      String what) {
    AtomicBoolean sent = new AtomicBoolean();
    CompletionStage<T> w;
    try {
      w = write.apply(() -> sent.set(true));
    } catch (RuntimeException e) {
      w = SimulationArea.failed(e);
    }
    return w.exceptionallyCompose(
        e -> {
          Throwable err = SimulationArea.cause(e);
          if (!sent.get()) {
            free.run();
            return SimulationArea.failed(err);
          }
          return undo(remove, UNDO_ATTEMPTS)
              .handle(
                  (x, undoErr) -> {
                    if (undoErr == null) {
                      free.run();
                    } else {
                      system
                          .log()
                          .warn(
                              "{}: its create failed ({}) after its directory write was sent, and"
                                  + " removing it failed too ({}); its admission stays held",
                              what,
                              err,
                              undoErr);
                    }
                    return x;
                  })
              .thenCompose(x -> SimulationArea.<T>failed(err));
        });
  }

  /** {@code remove}, tried up to {@code n} times {@value MeshVms#FIND_RETRY_MILLIS} ms apart. */
  private CompletionStage<Void> undo(Supplier<CompletionStage<Void>> remove, int n) {
    CompletionStage<Void> r;
    try {
      r = remove.get();
    } catch (RuntimeException e) {
      r = SimulationArea.failed(e);
    }
    if (n <= 1) {
      return r;
    }
    return r.exceptionallyCompose(
        e -> SimulationArea.shortly(system).thenCompose(x -> undo(remove, n - 1)));
  }
}
