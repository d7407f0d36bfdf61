package org.mmumesh.mesh;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.mmumesh.common.Quirk;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.hostmmu.actor.NotifierAdapter;
import org.mmumesh.hostmmu.actor.TlbieAdapter;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.vcpu.actor.Vcpu;

/**
 * One node's glue between the sharded entities, created lazily on first use and then kept (ids are
 * never reused): per host an {@link EntityForwarder} to its {@code PageFrame} (ksmd included); per
 * VM forwarders to its {@code HostMmu} and {@code GuestMmu}, its {@link TlbieAdapter} (given to the
 * VM's {@code GuestMmu} entities on this node) and its {@link NotifierAdapter} (Q8 or not from the
 * VM's options); per vCPU a forwarder (for the drivers). The entity factories call it from the
 * threads entities start on, so every lookup is a {@code computeIfAbsent} on a concurrent map whose
 * function spawns with {@link ActorSystem#systemActorOf} (thread-safe), at most once per key. A
 * VM's glue needs the VM in this node's {@link MeshDirectory} (else {@link
 * IllegalArgumentException}, and nothing is spawned).
 */
final class NodeGlue {
  /** This node's shard regions (or proxies), one per entity type. */
  record Regions(
      ActorRef<ShardingEnvelope<PageFrame.Command>> frames,
      ActorRef<ShardingEnvelope<HostMmu.Command>> hosts,
      ActorRef<ShardingEnvelope<GuestMmu.Command>> guests,
      ActorRef<ShardingEnvelope<Vcpu.Command>> vcpus) {}

  /** One VM's glue on this node. */
  record VmGlue(
      ActorRef<HostMmu.Command> host,
      ActorRef<GuestMmu.Command> guest,
      ActorRef<GuestMmu.HostTlbie> tlbie,
      ActorRef<PageFrame.NotifierEvent> notifier) {}

  private final ActorSystem<?> system;
  private final MeshDirectory directory;
  private volatile Regions regions;
  private volatile ActorRef<DirectoryActor.Command> directoryActor;
  private final ConcurrentHashMap<Integer, ActorRef<PageFrame.Command>> frames =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Integer, VmGlue> vms = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, ActorRef<Vcpu.Command>> vcpus = new ConcurrentHashMap<>();

  NodeGlue(ActorSystem<?> system, MeshDirectory directory) {
    this.system = Objects.requireNonNull(system, "system");
    this.directory = Objects.requireNonNull(directory, "directory");
  }

  /** Binds this node's directory actor (once, when the guardian spawned it). */
  void bindDirectory(ActorRef<DirectoryActor.Command> d) {
    directoryActor = Objects.requireNonNull(d, "directoryActor");
  }

  /** This node's directory actor. */
  ActorRef<DirectoryActor.Command> directoryActor() {
    ActorRef<DirectoryActor.Command> d = directoryActor;
    if (d == null) {
      throw new IllegalStateException("mesh: the directory actor is not started yet");
    }
    return d;
  }

  /** Binds the regions (once, right after every entity type is registered). */
  void bind(Regions r) {
    regions = Objects.requireNonNull(r, "regions");
  }

  private Regions regions() {
    Regions r = regions;
    if (r == null) {
      throw new IllegalStateException("mesh: the entity types are not registered yet");
    }
    return r;
  }

  /** The node's directory. */
  MeshDirectory directory() {
    return directory;
  }

  /** The {@code PageFrame} of host {@code host}. */
  ActorRef<PageFrame.Command> frames(int host) {
    return frames.computeIfAbsent(
        host,
        h ->
            system.systemActorOf(
                EntityForwarder.create(regions().frames(), PageFrame.entityId(h)),
                "mesh-to-page-frame-host-" + h,
                Props.empty()));
  }

  /** The glue of VM {@code vm}, which must be in this node's directory. */
  VmGlue vm(int vm) {
    return vms.computeIfAbsent(
        vm,
        v -> {
          MeshDirectory.VmEntry e = directory.require(v);
          Regions r = regions();
          ActorRef<HostMmu.Command> host =
              system.systemActorOf(
                  EntityForwarder.create(r.hosts(), HostMmu.entityId(v)),
                  "mesh-to-host-mmu-vm-" + v,
                  Props.empty());
          ActorRef<GuestMmu.Command> guest =
              system.systemActorOf(
                  EntityForwarder.create(r.guests(), GuestMmu.entityId(v)),
                  "mesh-to-guest-mmu-vm-" + v,
                  Props.empty());
          ActorRef<Object> tlbie =
              system.systemActorOf(TlbieAdapter.create(host), "mesh-tlbie-vm-" + v, Props.empty());
          ActorRef<Object> notifier =
              system.systemActorOf(
                  NotifierAdapter.create(host, v, e.options().has(Quirk.Q8_NOTIFIER_FULL_FLUSH)),
                  "mesh-notifier-vm-" + v,
                  Props.empty());
          return new VmGlue(host, guest, tlbie.narrow(), notifier.narrow());
        });
  }

  /** The {@code PageFrame} of the host VM {@code vm} runs on. */
  ActorRef<PageFrame.Command> framesOfVm(int vm) {
    return frames(directory.require(vm).hostId());
  }

  /** A forwarder to vCPU {@code vcpu} of VM {@code vm}. */
  ActorRef<Vcpu.Command> vcpu(int vm, int vcpu) {
    return vcpus.computeIfAbsent(
        ((long) vm << 32) | vcpu,
        k ->
            system.systemActorOf(
                EntityForwarder.create(regions().vcpus(), Vcpu.entityId(vm, vcpu)),
                "mesh-to-vcpu-vm-" + vm + "-" + vcpu,
                Props.empty()));
  }
}
