package org.mmumesh.mesh;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.mmumesh.vcpu.actor.Vcpu;
import org.mmumesh.vcpu.actor.VcpuParking;

/**
 * The plumbing every area of {@link MeshSimulation} shares (one area per gateway service: hosts,
 * VMs, memory, guest HTAB, accesses, KSM, inspection): the node's actor system, glue and directory,
 * the asks ({@link MeshVms}, each with a fresh request id and the configured timeout), and the
 * checks every call makes before anything is sent: a host or VM looked up in this node's directory
 * (NOT_FOUND when unknown: an entity addressed before its VM is registered would reject everything
 * for good), a vCPU index against the VM's vCPU count, an effective address against a 32-bit
 * guest's 32 bits.
 *
 * <p>It also keeps which vCPUs the facade started ({@link #startVcpu}), so that reading counters
 * never starts one ({@link #vcpuCounters}).
 */
abstract class SimulationArea {
  /** What the areas of one facade share. */
  record Shared(
      ActorSystem<?> system, NodeGlue glue, MeshVms vms, AtomicLong ids, Set<Long> startedVcpus) {}

  /** The largest effective address of a 32-bit guest. */
  static final long EA32 = 0xFFFF_FFFFL;

  /** Attempts of a vCPU command while the vCPU is still starting (fetching its mode). */
  static final int STARTING_ATTEMPTS = 100;

  final ActorSystem<?> system;
  final NodeGlue glue;
  final MeshDirectory dir;
  final MeshVms vms;
  final AtomicLong ids;
  private final Set<Long> startedVcpus;

  SimulationArea(Shared s) {
    this.system = Objects.requireNonNull(s.system(), "system");
    this.glue = Objects.requireNonNull(s.glue(), "glue");
    this.dir = glue.directory();
    this.vms = Objects.requireNonNull(s.vms(), "vms");
    this.ids = Objects.requireNonNull(s.ids(), "ids");
    this.startedVcpus = Objects.requireNonNull(s.startedVcpus(), "startedVcpus");
  }

  // ---- checks ----------------------------------------------------------------------------------

  /** The host; NOT_FOUND when unknown, WRONG_STATE naming the loss when it was lost. */
  MeshDirectory.HostEntry host(int hostId) {
    MeshDirectory.HostEntry h = hostEvenLost(hostId);
    Optional<String> lost = dir.hostLost(hostId);
    if (lost.isPresent()) {
      throw SimulationException.wrongState(lost.get());
    }
    return h;
  }

  /** The host, lost or not (deleting a lost host); NOT_FOUND when unknown. */
  MeshDirectory.HostEntry hostEvenLost(int hostId) {
    return dir.host(hostId).orElseThrow(() -> SimulationException.notFound("host " + hostId));
  }

  /**
   * The VM; NOT_FOUND when unknown, WRONG_STATE naming the lost node and what was lost when its
   * state was lost ({@link LostEntities}): never a call served by an empty restart.
   */
  MeshDirectory.VmEntry vm(int vmId) {
    MeshDirectory.VmEntry e = vmEvenLost(vmId);
    Optional<String> lost = dir.vmLost(vmId);
    if (lost.isPresent()) {
      throw SimulationException.wrongState(lost.get());
    }
    return e;
  }

  /** The VM, lost or not (deleting a lost VM); NOT_FOUND when unknown. */
  MeshDirectory.VmEntry vmEvenLost(int vmId) {
    return dir.vm(vmId).orElseThrow(() -> SimulationException.notFound("vm " + vmId));
  }

  MeshDirectory.VmEntry vcpu(int vmId, int vcpu) {
    MeshDirectory.VmEntry e = vm(vmId);
    if (vcpu < 0 || vcpu >= e.vcpus()) {
      throw SimulationException.notFound(
          "vm " + vmId + " vcpu " + vcpu + " (the VM has vcpus 0 .. " + (e.vcpus() - 1) + ")");
    }
    return e;
  }

  /** Throws BAD_FIELD naming {@code field} when {@code ea} exceeds a 32-bit guest's 32 bits. */
  static void ea(MeshDirectory.VmEntry e, String field, long ea) {
    if (!e.is64() && Long.compareUnsigned(ea, EA32) > 0) {
      throw SimulationException.badField(
          field,
          "0x"
              + Long.toHexString(ea)
              + " exceeds 32 bits on 32-bit vm "
              + e.vmId()
              + "; allowed 0 .. 0xffffffff");
    }
  }

  // ---- stages ----------------------------------------------------------------------------------

  static <T> CompletionStage<T> failed(Throwable t) {
    return CompletableFuture.failedFuture(t);
  }

  /** Runs {@code body}; a check it throws becomes the failed stage. */
  static <T> CompletionStage<T> guarded(Supplier<CompletionStage<T>> body) {
    try {
      return body.get();
    } catch (RuntimeException e) {
      return failed(e);
    }
  }

  /** {@code e} without the {@link CompletionException} around it. */
  static Throwable cause(Throwable e) {
    return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
  }

  /** A {@code Rejected} (WRONG_STATE from {@link MeshVms#call}) turned into {@code kind}. */
  static <T> CompletionStage<T> rejectedAs(CompletionStage<T> s, SimulationException.Kind kind) {
    return s.exceptionallyCompose(
        e -> {
          Throwable t = cause(e);
          if (t instanceof SimulationException se
              && se.kind() == SimulationException.Kind.WRONG_STATE) {
            return failed(new SimulationException(kind, se.getMessage()));
          }
          return failed(t);
        });
  }

  /** Counters by lower-case name (names differing only in case summed). */
  static Map<String, Long> lower(Map<String, Long> counters) {
    Map<String, Long> out = new TreeMap<>();
    counters.forEach((k, v) -> out.merge(k.toLowerCase(Locale.ROOT), v, Long::sum));
    return out;
  }

  /** Completes after {@value MeshVms#FIND_RETRY_MILLIS} ms, on {@code system}'s scheduler. */
  static CompletionStage<Void> shortly(ActorSystem<?> system) {
    CompletableFuture<Void> later = new CompletableFuture<>();
    system
        .scheduler()
        .scheduleOnce(
            Duration.ofMillis(MeshVms.FIND_RETRY_MILLIS),
            () -> later.complete(null),
            system.executionContext());
    return later;
  }

  // ---- vCPUs -----------------------------------------------------------------------------------

  /**
   * vCPU {@code vcpu} of VM {@code vmId}, for a command that starts it (a batch, a traced access, a
   * state change, a halt, a locate): remembered, so that reading counters never starts a vCPU
   * ({@link #vcpuCounters}).
   */
  ActorRef<Vcpu.Command> startVcpu(int vmId, int vcpu) {
    startedVcpus.add(key(vmId, vcpu));
    return glue.vcpu(vmId, vcpu);
  }

  /** Whether this facade ever started vCPU {@code vcpu} of VM {@code vmId}. */
  boolean started(int vmId, int vcpu) {
    return startedVcpus.contains(key(vmId, vcpu));
  }

  private static long key(int vmId, int vcpu) {
    return ((long) vmId << 32) | vcpu;
  }

  /**
   * The counters of vCPU {@code vcpu} of VM {@code vmId} without starting it: zeros for a vCPU this
   * facade never started (nothing ran on it; its TLB is not even allocated), the parked counters of
   * one parked on this node ({@link VcpuParking}), else the running vCPU's answer. (A vCPU parked
   * on another node is asked, which starts it there again: the parking store is node-local.)
   */
  CompletableFuture<org.mmumesh.common.Counts> vcpuCounters(int vmId, int vcpu) {
    if (!started(vmId, vcpu)) {
      return CompletableFuture.completedFuture(org.mmumesh.common.Counts.zero());
    }
    Optional<org.mmumesh.common.Counts> parked =
        VcpuParking.get(system).counters(Vcpu.entityId(vmId, vcpu));
    if (parked.isPresent()) {
      return CompletableFuture.completedFuture(parked.get());
    }
    return vms.<Vcpu.Command, Vcpu.StatusReport>ask(glue.vcpu(vmId, vcpu), Vcpu.GetCounters::new)
        .thenApply(Vcpu.StatusReport::counters)
        .toCompletableFuture();
  }

  /**
   * {@code attempt} again (after {@value MeshVms#FIND_RETRY_MILLIS} ms) while the vCPU answers that
   * it is still {@code STARTING}: a freshly started vCPU asks its GuestMmu for its mode first and
   * refuses state changes and traced accesses until then.
   */
  <R> CompletionStage<R> whileStarting(Supplier<CompletionStage<R>> attempt, int n) {
    return attempt
        .get()
        .thenCompose(
            reply -> {
              if (n < STARTING_ATTEMPTS
                  && reply instanceof Vcpu.Rejected rej
                  && rej.state() == Vcpu.VcpuState.STARTING) {
                return shortly(system).thenCompose(x -> whileStarting(attempt, n + 1));
              }
              return CompletableFuture.completedFuture(reply);
            });
  }

  /**
   * A vCPU's {@code Rejected} as the API's failure: WRONG_STATE when the vCPU's state refused it,
   * else BAD_FIELD with the reason, less {@code strip} at its start.
   */
  static SimulationException vcpuRejected(Vcpu.Rejected rej, String strip) {
    boolean state =
        rej.reason().contains("not allowed in state") || rej.state() == Vcpu.VcpuState.HALTED;
    String why = rej.reason();
    if (strip != null && why.startsWith(strip)) {
      why = why.substring(strip.length());
    }
    return new SimulationException(
        state ? SimulationException.Kind.WRONG_STATE : SimulationException.Kind.BAD_FIELD, why);
  }
}
