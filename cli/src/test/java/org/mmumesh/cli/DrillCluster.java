package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.RunResult;
import org.mmumesh.proto.v1.AccessKind;
import org.mmumesh.proto.v1.AccessRequest;
import org.mmumesh.proto.v1.AccessServiceGrpc;
import org.mmumesh.proto.v1.ClusterServiceGrpc;
import org.mmumesh.proto.v1.CreateVmRequest;
import org.mmumesh.proto.v1.GetVmRequest;
import org.mmumesh.proto.v1.GetVmStatsRequest;
import org.mmumesh.proto.v1.LocateEntityRequest;
import org.mmumesh.proto.v1.MmuKind;
import org.mmumesh.proto.v1.ReadMemoryRequest;
import org.mmumesh.proto.v1.ReadRcRequest;
import org.mmumesh.proto.v1.VcpuRef;
import org.mmumesh.proto.v1.VmRef;
import org.mmumesh.proto.v1.VmServiceGrpc;
import org.mmumesh.workload.WorkloadParser;
import org.mmumesh.workload.WorkloadSpec;

/**
 * The cluster of the failure drills (issue 12 item 7, {@link NodeKillDrillTest}, {@link
 * NodePauseDrillTest}): three {@code mmumesh node} JVMs on loopback, node 1 {@code gateway,frames}
 * (the seed), nodes 2 and 3 {@code mmu,vcpu}, the split-brain resolver's {@code stable-after} cut
 * to {@link #STABLE_AFTER} so a lost node is downed within seconds. {@link #load} runs a small
 * lockstep workload through the gateway (host 0, VMs {@code 0 .. VMS-1}), which the least-loaded
 * allocation spreads over nodes 2 and 3; {@link #vmsOn} says which VMs have an entity on a node
 * ({@code LocateEntity}). {@link #probe} sends one VM every kind of per-VM call with a deadline and
 * collects the statuses, so a drill can say how the gateway answers each VM.
 */
final class DrillCluster implements AutoCloseable {
  /** Bounds every wait for a condition (generous: the machine is shared and busy). */
  static final Duration WAIT = Duration.ofMinutes(4);

  /** The deadline of each probe call: a call not answered by then "hangs". */
  static final Duration CALL_DEADLINE = Duration.ofSeconds(60);

  static final String STABLE_AFTER = "4s";
  static final int VMS = 4;

  private static final String WORKLOAD =
      "identical:vms="
          + VMS
          + ",vcpus=1,pages=64,ws=48,image-distinct=0.3,read=0.8,accesses=400,seed=7,mmu=64";

  private final List<NodeProcess> nodes = new ArrayList<>();
  private final String seed;
  final NodeProcess gateway;
  final int grpcPort;
  final ManagedChannel channel;

  private DrillCluster() {
    int seedPort = NodeProcess.freePort();
    seed = "127.0.0.1:" + seedPort;
    grpcPort = NodeProcess.freePort();
    int mgmt = NodeProcess.freePort();
    gateway =
        add(
            NodeProcess.start(
                jvmOptions(),
                List.of(
                    "--roles",
                    "gateway,frames",
                    "--seed-nodes",
                    seed,
                    "--port",
                    "" + seedPort,
                    "--grpc-port",
                    "" + grpcPort,
                    "--metrics-port",
                    "" + NodeProcess.freePort(),
                    "--management-port",
                    "" + mgmt),
                Map.of(),
                seedPort,
                mgmt));
    channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
  }

  /** Starts the three nodes and waits until each is ready and the gateway serves. */
  static DrillCluster start() {
    DrillCluster c = new DrillCluster();
    try {
      c.startWorker();
      c.startWorker();
      for (NodeProcess n : c.nodes) {
        c.awaitReady(n);
      }
      await()
          .atMost(WAIT)
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () ->
                  assertThat(
                          HealthGrpc.newBlockingStub(c.channel)
                              .withDeadlineAfter(10, TimeUnit.SECONDS)
                              .check(HealthCheckRequest.getDefaultInstance())
                              .getStatus())
                      .isEqualTo(ServingStatus.SERVING));
      return c;
    } catch (RuntimeException | Error e) {
      c.close();
      throw e;
    }
  }

  private static List<String> jvmOptions() {
    return List.of("-Dpekko.cluster.split-brain-resolver.stable-after=" + STABLE_AFTER);
  }

  private NodeProcess add(NodeProcess n) {
    nodes.add(n);
    return n;
  }

  /** Starts one more {@code mmu,vcpu} node joining the cluster (not waited for). */
  NodeProcess startWorker() {
    int port = NodeProcess.freePort();
    int mgmt = NodeProcess.freePort();
    return add(
        NodeProcess.start(
            jvmOptions(),
            List.of("--management-port", "" + mgmt),
            Map.of(
                "MMUMESH_ROLES", "mmu,vcpu", "MMUMESH_SEED_NODES", seed, "MMUMESH_PORT", "" + port),
            port,
            mgmt));
  }

  /** Node {@code i} as started (0 the gateway, 1 and 2 the workers, then the ones added). */
  NodeProcess node(int i) {
    return nodes.get(i);
  }

  void awaitReady(NodeProcess n) {
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(() -> assertThat(n.ready()).as(n.output()).isEqualTo(200));
  }

  /** The gateway node's {@code /cluster/members} body. */
  String members() throws Exception {
    return gateway.get("/cluster/members").body();
  }

  /** Runs the drill's workload through the gateway (host 0, VMs 0 .. VMS-1); it must not fail. */
  RunResult load() {
    WorkloadSpec spec = WorkloadParser.parse(WORKLOAD);
    EngineConfig cfg = EngineConfig.defaults(MmuOptions.defaults(Policy.FIXED)).withKsm(100, 1, 1);
    RunResult r = new LockstepClient(channel, spec, cfg, 0).run(null);
    assertThat(r.failures()).isEmpty();
    return r;
  }

  /** The node address {@code LocateEntity} gives for entity {@code type} {@code id}. */
  String locate(String type, String id) {
    return ClusterServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(CALL_DEADLINE.toSeconds(), TimeUnit.SECONDS)
        .locateEntity(LocateEntityRequest.newBuilder().setEntityType(type).setEntityId(id).build())
        .getNodeAddress();
  }

  /** Where VM {@code vm}'s guest MMU, host MMU and vCPU 0 live. */
  List<String> placement(int vm) {
    return List.of(
        locate("GuestMmu", "vm-" + vm),
        locate("HostMmu", "vm-" + vm),
        locate("Vcpu", "vm-" + vm + "/vcpu-0"));
  }

  /** The VMs among {@code 0 .. VMS-1} with at least one entity on {@code n}. */
  TreeSet<Integer> vmsOn(NodeProcess n) {
    TreeSet<Integer> all = new TreeSet<>();
    for (int vm = 0; vm < VMS; vm++) {
      all.add(vm);
    }
    return vmsOn(n, all);
  }

  /** The VMs among {@code vms} with at least one entity on {@code n}. */
  TreeSet<Integer> vmsOn(NodeProcess n, java.util.Set<Integer> vms) {
    TreeSet<Integer> on = new TreeSet<>();
    for (int vm : vms) {
      if (placement(vm).contains(n.address())) {
        on.add(vm);
      }
    }
    return on;
  }

  /** Creates VM {@code vm} on host 0 (1 MiB, one vCPU). */
  void createVm(int vm) {
    VmServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(CALL_DEADLINE.toSeconds(), TimeUnit.SECONDS)
        .createVm(
            CreateVmRequest.newBuilder()
                .setVmId(vm)
                .setHostId(0)
                .setMmuKind(MmuKind.MMU_KIND_BOOK3S_64)
                .setMemorySizeBytes(1 << 20)
                .setVcpuCount(1)
                .setOptions(
                    org.mmumesh.proto.v1.MmuOptions.newBuilder()
                        .setPolicy(org.mmumesh.proto.v1.Policy.POLICY_FIXED))
                .build());
  }

  /** What VM {@code vm} holds, as its reads answer: counters and the first pages' fingerprints. */
  String state(int vm) {
    VmServiceGrpc.VmServiceBlockingStub vms =
        VmServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(CALL_DEADLINE.toSeconds(), TimeUnit.SECONDS);
    return vms.getVmStats(GetVmStatsRequest.newBuilder().setVm(ref(vm)).build()).getCountersList()
        + " "
        + vms.readMemory(
                ReadMemoryRequest.newBuilder()
                    .setVm(ref(vm))
                    .setGuestFrameStart(0)
                    .setPages(16)
                    .build())
            .getFingerprintsList();
  }

  /** A call's outcome: its status code and description, and whether it ended by its deadline. */
  record Outcome(String call, Status.Code code, String description) {
    @Override
    public String toString() {
      return call + " " + code + (description == null ? "" : ": " + description);
    }
  }

  /**
   * Sends VM {@code vm} each per-VM call the gateway has for it (GetVm, GetVmStats, ReadMemory,
   * ReadRc, Access: the directory, the guest MMU, the host MMU and page frames, the vCPU), each
   * with {@link #CALL_DEADLINE}; returns each call's outcome in that order.
   */
  Map<String, Outcome> probe(int vm) {
    return probe(vm, true);
  }

  /**
   * {@link #probe(int)}, without the Access when {@code access} is false (the reads only: they
   * leave the VM's counters as they are).
   */
  Map<String, Outcome> probe(int vm, boolean access) {
    VmServiceGrpc.VmServiceBlockingStub vms = VmServiceGrpc.newBlockingStub(channel);
    AccessServiceGrpc.AccessServiceBlockingStub acc = AccessServiceGrpc.newBlockingStub(channel);
    VcpuRef vcpu = VcpuRef.newBuilder().setVmId(vm).setVcpuIndex(0).build();
    Map<String, Outcome> out = new LinkedHashMap<>();
    call(out, "GetVm", () -> deadline(vms).getVm(GetVmRequest.newBuilder().setVm(ref(vm)).build()));
    call(
        out,
        "GetVmStats",
        () -> deadline(vms).getVmStats(GetVmStatsRequest.newBuilder().setVm(ref(vm)).build()));
    call(
        out,
        "ReadMemory",
        () ->
            deadline(vms)
                .readMemory(
                    ReadMemoryRequest.newBuilder()
                        .setVm(ref(vm))
                        .setGuestFrameStart(0)
                        .setPages(4)
                        .build()));
    call(
        out,
        "ReadRc",
        () ->
            deadline(vms)
                .readRc(ReadRcRequest.newBuilder().setVcpu(vcpu).setEffectiveAddr(0).build()));
    if (!access) {
      return out;
    }
    call(
        out,
        "Access",
        () ->
            deadline(acc)
                .access(
                    AccessRequest.newBuilder()
                        .setVcpu(vcpu)
                        .setKind(AccessKind.ACCESS_KIND_LOAD)
                        .setEffectiveAddr(0)
                        .build()));
    return out;
  }

  /**
   * Asserts that {@code o} was served from the VM's state: OK, or for ReadRc at an address without
   * a guest HPTE (the drills read EA 0) the guest MMU's own NOT_FOUND naming it.
   */
  static void assertServed(String what, Outcome o) {
    if (o.call().equals("ReadRc") && o.code() == Status.Code.NOT_FOUND) {
      assertThat(o.description()).as("%s: %s", what, o).startsWith("ea: no HPTE translates 0x0");
      return;
    }
    assertThat(o.code()).as("%s: %s", what, o).isEqualTo(Status.Code.OK);
  }

  private static <S extends io.grpc.stub.AbstractStub<S>> S deadline(S stub) {
    return stub.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static void call(Map<String, Outcome> out, String name, Supplier<?> call) {
    try {
      call.get();
      out.put(name, new Outcome(name, Status.Code.OK, null));
    } catch (StatusRuntimeException e) {
      out.put(name, new Outcome(name, e.getStatus().getCode(), e.getStatus().getDescription()));
    }
  }

  /**
   * {@link #probe} of every VM in {@code vms}, by VM; those in {@code readOnly} get the reads only.
   */
  Map<Integer, Map<String, Outcome>> probeAll(
      Iterable<Integer> vms, java.util.Set<Integer> readOnly) {
    Map<Integer, Map<String, Outcome>> all = new TreeMap<>();
    for (int vm : vms) {
      all.put(vm, probe(vm, !readOnly.contains(vm)));
    }
    return all;
  }

  static VmRef ref(int vm) {
    return VmRef.newBuilder().setVmId(vm).build();
  }

  /** Sends {@code signal} (e.g. {@code STOP}, {@code CONT}) to node {@code n}'s JVM. */
  static void signal(NodeProcess n, String signal) throws Exception {
    Process kill =
        new ProcessBuilder("kill", "-" + signal, Long.toString(n.process.pid()))
            .redirectErrorStream(true)
            .start();
    assertThat(kill.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).as("kill -%s %d", signal, n.process.pid()).isZero();
  }

  @Override
  public void close() {
    channel.shutdownNow();
    for (NodeProcess n : nodes) {
      try {
        if (n.process.isAlive()) {
          // a stopped JVM ignores nothing but SIGKILL; SIGCONT first so its output drains
          signal(n, "CONT");
        }
      } catch (Exception e) {
        // it is killed below anyway
      }
      n.close();
    }
  }
}
