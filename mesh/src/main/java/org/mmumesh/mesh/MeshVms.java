package org.mmumesh.mesh;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.mmumesh.pageframe.actor.PageFrame;

/**
 * The one path that makes hosts and VMs exist on the mesh, for static runs ({@link MeshCluster})
 * and run-time ones ({@link MeshSimulation}) alike.
 *
 * <p><b>Registering</b> ({@link #putHost}, {@link #putVm}, {@link #removeVm}, ...) writes the entry
 * into <em>every</em> node's {@link MeshDirectory}: it finds the nodes' {@link DirectoryActor}s
 * with the Receptionist (waiting, retrying every {@value #FIND_RETRY_MILLIS} ms, until there are as
 * many as the cluster has Up members, because a listing reaches other nodes eventually), asks each
 * and completes when every one answered.
 *
 * <p><b>Creating a VM</b> ({@link #create}) then does what {@code kvm_create_vm} and QEMU do, on
 * the VM's host's {@code PageFrame} through this node's glue: subscribes this node's notifier
 * adapter of the VM ({@code SubscribeNotifier}), {@code CreateVm}, memslot 0 over {@code [0,
 * memoryPages)} at host page 0 ({@code AddSlot}), and, for a mergeable VM, {@code KsmMadvise} of
 * that range. Each step is asked with a fresh request id and must answer its success reply; a
 * {@code Rejected} fails the stage with {@link SimulationException.Kind#WRONG_STATE} naming the
 * reason, anything else with an {@link IllegalStateException}.
 */
final class MeshVms {
  static final long FIND_RETRY_MILLIS = 50;

  private final ActorSystem<?> system;
  private final NodeGlue glue;
  private final Duration timeout;
  private final AtomicLong ids;

  /** Asks from {@code system} (whose glue is {@code glue}), each ask within {@code timeout}. */
  MeshVms(ActorSystem<?> system, NodeGlue glue, Duration timeout, AtomicLong ids) {
    this.system = Objects.requireNonNull(system, "system");
    this.glue = Objects.requireNonNull(glue, "glue");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.ids = Objects.requireNonNull(ids, "ids");
  }

  /** Registers {@code h} on every node. */
  CompletionStage<Void> putHost(MeshDirectory.HostEntry h) {
    return putHost(h, () -> {});
  }

  /**
   * Registers {@code h} on every node; {@code sending} runs right before the first write is sent (a
   * failure before it leaves the directories untouched for certain; after it, a write may still
   * land after the stage failed, e.g. when its ask timed out).
   */
  CompletionStage<Void> putHost(MeshDirectory.HostEntry h, Runnable sending) {
    return everyNode((id, r) -> new DirectoryActor.PutHost(id, h, r), sending);
  }

  /** Drops host {@code hostId} from every node. */
  CompletionStage<Void> removeHost(int hostId) {
    return everyNode((id, r) -> new DirectoryActor.RemoveHost(id, hostId, r), () -> {});
  }

  /** Registers {@code v} on every node. */
  CompletionStage<Void> putVm(MeshDirectory.VmEntry v) {
    return putVm(v, () -> {});
  }

  /**
   * Registers {@code v} on every node; {@code sending} as in {@link
   * #putHost(MeshDirectory.HostEntry, Runnable)}.
   */
  CompletionStage<Void> putVm(MeshDirectory.VmEntry v, Runnable sending) {
    return everyNode((id, r) -> new DirectoryActor.PutVm(id, v, r), sending);
  }

  /** Drops VM {@code vmId} from every node. */
  CompletionStage<Void> removeVm(int vmId) {
    return everyNode((id, r) -> new DirectoryActor.RemoveVm(id, vmId, r), () -> {});
  }

  /**
   * Registers {@code v} everywhere, then creates it on its host's page frames (see above); answers
   * the memslot generation after memslot 0.
   */
  CompletionStage<Long> create(MeshDirectory.VmEntry v) {
    return create(v, () -> {});
  }

  /**
   * {@link #create(MeshDirectory.VmEntry)}; {@code sending} runs right before its directory write
   * is sent (see {@link #putHost(MeshDirectory.HostEntry, Runnable)}).
   */
  CompletionStage<Long> create(MeshDirectory.VmEntry v, Runnable sending) {
    int vm = v.vmId();
    return putVm(v, sending)
        .thenCompose(
            x -> {
              ActorRef<PageFrame.Command> pf = glue.frames(v.hostId());
              pf.tell(new PageFrame.SubscribeNotifier(vm, glue.vm(vm).notifier()));
              return call(
                  pf,
                  (Long id, ActorRef<PageFrame.VmReply> r) -> new PageFrame.CreateVm(id, vm, r),
                  PageFrame.VmCreated.class);
            })
        .thenCompose(
            x ->
                call(
                    glue.frames(v.hostId()),
                    (Long id, ActorRef<PageFrame.SlotReply> r) ->
                        new PageFrame.AddSlot(id, vm, 0, 0, v.memoryPages(), 0, false, r),
                    PageFrame.SlotAdded.class))
        .thenCompose(
            added ->
                v.mergeable()
                    ? call(
                            glue.frames(v.hostId()),
                            (Long id, ActorRef<PageFrame.KsmReply> r) ->
                                new PageFrame.KsmMadvise(id, vm, 0, v.memoryPages(), true, r),
                            PageFrame.KsmControlDone.class)
                        .thenApply(d -> added.generation())
                    : CompletableFuture.completedFuture(added.generation()));
  }

  /** Where entity {@code type}/{@code id} runs: every node's answer, the one that has it wins. */
  CompletionStage<DirectoryActor.Located> locate(String type, String id) {
    return directories(System.nanoTime() + timeout.toNanos())
        .thenCompose(
            refs -> {
              List<CompletableFuture<DirectoryActor.Located>> all = new ArrayList<>();
              for (ActorRef<DirectoryActor.Command> d : refs) {
                long rid = ids.incrementAndGet();
                all.add(
                    askUnlessGone(
                        d,
                        (ActorRef<DirectoryActor.Located> r) ->
                            new DirectoryActor.Locate(rid, type, id, r)));
              }
              return CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]))
                  .thenApply(
                      x -> {
                        for (CompletableFuture<DirectoryActor.Located> f : all) {
                          DirectoryActor.Located l = f.join();
                          if (l != null && !l.shardId().isEmpty()) {
                            return l;
                          }
                        }
                        return null;
                      });
            });
  }

  /**
   * Asks every node's directory actor with {@code message} (a fresh request id each) and completes
   * when all answered; {@code sending} runs once the directories are found, right before the first
   * ask is sent.
   */
  private CompletionStage<Void> everyNode(
      java.util.function.BiFunction<Long, ActorRef<DirectoryActor.Done>, DirectoryActor.Command>
          message,
      Runnable sending) {
    return directories(System.nanoTime() + timeout.toNanos())
        .thenCompose(
            refs -> {
              sending.run();
              List<CompletableFuture<DirectoryActor.Done>> all = new ArrayList<>();
              for (ActorRef<DirectoryActor.Command> d : refs) {
                long id = ids.incrementAndGet();
                all.add(
                    askUnlessGone(d, (ActorRef<DirectoryActor.Done> r) -> message.apply(id, r)));
              }
              return CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]));
            });
  }

  /**
   * Every healthy node's directory actor (on a member that is Up and reachable), once the listing
   * has one per healthy member. A member that is unreachable, downed or leaving is passed over: its
   * directory does not matter any more (if it comes back, its peers send it their snapshots).
   */
  private CompletionStage<Set<ActorRef<DirectoryActor.Command>>> directories(long deadline) {
    Set<Address> healthy = healthy();
    long expected = Math.max(1, healthy.size());
    return ask(
            system.receptionist(),
            (ActorRef<Receptionist.Listing> r) -> Receptionist.find(DirectoryActor.KEY, r))
        .thenCompose(
            listing -> {
              Set<ActorRef<DirectoryActor.Command>> refs = new java.util.HashSet<>();
              for (ActorRef<DirectoryActor.Command> d :
                  listing.getServiceInstances(DirectoryActor.KEY)) {
                if (healthy.contains(addressOf(d))) {
                  refs.add(d);
                }
              }
              if (refs.size() >= expected) {
                return CompletableFuture.completedFuture(refs);
              }
              if (System.nanoTime() > deadline) {
                return CompletableFuture.failedFuture(
                    new SimulationException(
                        SimulationException.Kind.UNAVAILABLE,
                        "mesh: "
                            + refs.size()
                            + " of "
                            + expected
                            + " nodes' directories are known; try again"));
              }
              CompletableFuture<Void> later = new CompletableFuture<>();
              system
                  .scheduler()
                  .scheduleOnce(
                      Duration.ofMillis(FIND_RETRY_MILLIS),
                      () -> later.complete(null),
                      system.executionContext());
              return later.thenCompose(x -> directories(deadline));
            });
  }

  /** The members that are Up (or WeaklyUp) and reachable from this node. */
  private Set<Address> healthy() {
    Set<Address> out = new java.util.HashSet<>();
    org.apache.pekko.cluster.ClusterEvent.CurrentClusterState state = Cluster.get(system).state();
    Set<org.apache.pekko.cluster.Member> unreachable = state.getUnreachable();
    for (org.apache.pekko.cluster.Member m : state.getMembers()) {
      if ((m.status() == MemberStatus.up() || m.status() == MemberStatus.weaklyUp())
          && !unreachable.contains(m)) {
        out.add(m.address());
      }
    }
    return out;
  }

  private Address addressOf(ActorRef<?> ref) {
    Address a = ref.path().address();
    return a.hasLocalScope() ? Cluster.get(system).selfMember().address() : a;
  }

  /**
   * An ask to a directory actor that completes with null as soon as its node is no longer healthy
   * (checked every {@value #FIND_RETRY_MILLIS} ms): a lost node's directory never holds a create or
   * a delete for the ask's timeout.
   */
  private <R> CompletableFuture<R> askUnlessGone(
      ActorRef<DirectoryActor.Command> d, Function<ActorRef<R>, DirectoryActor.Command> message) {
    CompletableFuture<R> f = this.<DirectoryActor.Command, R>ask(d, message).toCompletableFuture();
    CompletableFuture<R> out = new CompletableFuture<>();
    f.whenComplete(
        (v, e) -> {
          if (e == null) {
            out.complete(v);
          } else {
            out.completeExceptionally(e);
          }
        });
    untilGone(out, addressOf(d));
    return out;
  }

  private void untilGone(CompletableFuture<?> f, Address node) {
    if (f.isDone()) {
      return;
    }
    if (!healthy().contains(node)) {
      f.complete(null);
      return;
    }
    system
        .scheduler()
        .scheduleOnce(
            Duration.ofMillis(FIND_RETRY_MILLIS),
            () -> untilGone(f, node),
            system.executionContext());
  }

  /** An ask within the timeout; a timeout fails with {@link SimulationException.Kind#TIMEOUT}. */
  <Q, R> CompletionStage<R> ask(RecipientRef<Q> to, Function<ActorRef<R>, Q> message) {
    return AskPattern.<Q, R>ask(to, message::apply, timeout, system.scheduler())
        .exceptionallyCompose(
            e -> {
              Throwable t =
                  e instanceof java.util.concurrent.CompletionException ? e.getCause() : e;
              if (t instanceof TimeoutException) {
                return CompletableFuture.failedFuture(
                    new SimulationException(
                        SimulationException.Kind.TIMEOUT,
                        "the simulation did not answer within " + timeout + ": " + t.getMessage()));
              }
              return CompletableFuture.failedFuture(t);
            });
  }

  /**
   * An ask with a fresh request id expecting a reply of {@code kind}: a {@code Rejected} (any
   * actor's) fails with {@link SimulationException.Kind#WRONG_STATE} naming its reason.
   */
  <Q, R, T> CompletionStage<T> call(
      RecipientRef<Q> to,
      java.util.function.BiFunction<Long, ActorRef<R>, Q> message,
      Class<T> kind) {
    long id = ids.incrementAndGet();
    return this.<Q, R>ask(to, r -> message.apply(id, r)).thenApply(reply -> expect(reply, kind));
  }

  /** {@code reply} as {@code kind}, or the failure it reports. */
  static <T> T expect(Object reply, Class<T> kind) {
    if (kind.isInstance(reply)) {
      return kind.cast(reply);
    }
    String rejected = rejectedReason(reply);
    if (rejected != null) {
      throw new SimulationException(SimulationException.Kind.WRONG_STATE, rejected);
    }
    throw new IllegalStateException("mesh: expected " + kind.getSimpleName() + " but got " + reply);
  }

  /** The reason of any actor's {@code Rejected} reply, or null. */
  static String rejectedReason(Object reply) {
    if (reply instanceof PageFrame.Rejected r) {
      return r.reason();
    } else if (reply instanceof org.mmumesh.guestmmu.actor.GuestMmu.Rejected r) {
      return r.reason();
    } else if (reply instanceof org.mmumesh.hostmmu.actor.HostMmu.Rejected r) {
      return r.reason();
    } else if (reply instanceof org.mmumesh.vcpu.actor.Vcpu.Rejected r) {
      return r.reason();
    }
    return null;
  }
}
