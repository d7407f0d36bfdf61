package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.RunResult;
import org.mmumesh.gateway.GatewayMain;
import org.mmumesh.proto.v1.ClusterServiceGrpc;
import org.mmumesh.proto.v1.LocateEntityRequest;
import org.mmumesh.workload.WorkloadParser;
import org.mmumesh.workload.WorkloadSpec;

/**
 * Three {@code mmumesh node} processes in separate JVMs (issue 12 item 7's first half): the gateway
 * and page frames on one, the MMUs on another, the vCPUs on a third, joined from one seed node into
 * ONE cluster; every {@code /ready} turns 200, every node's {@code /cluster/members} lists all
 * three Up; a lockstep workload driven through the gateway runs its entities on the other JVMs
 * ({@code LocateEntity}) and ends with exactly the single-node run's numbers.
 */
class NodeClusterTest {
  private static final Duration DEADLINE = Duration.ofMinutes(5);

  private final List<NodeProcess> nodes = new ArrayList<>();

  @AfterEach
  void killNodes() {
    nodes.forEach(NodeProcess::close);
  }

  private static EngineConfig config() {
    return EngineConfig.defaults(MmuOptions.defaults(Policy.LEGACY))
        .withKsm(100, 1, 1)
        .withSampleInterval(50_000)
        .withSidToggle(EngineConfig.SidToggleScope.PER_VM);
  }

  private static final String WORKLOAD =
      "identical:vms=2,vcpus=1,pages=64,ws=48,image-distinct=0.3,read=0.8,accesses=1001,seed=7,mmu=64";

  @Test
  void threeNodeProcesses_formOneCluster_andRunTheWorkloadAsOneNodeDoes() throws Exception {
    int seedPort = NodeProcess.freePort();
    String seed = "127.0.0.1:" + seedPort;
    int grpcPort = NodeProcess.freePort();
    // the gateway node from options; the others from the environment (MMUMESH_*)
    NodeProcess gateway =
        start(
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
                "" + NodeProcess.freePort()),
            Map.of(),
            seedPort);
    NodeProcess mmu = startFromEnv("mmu", seed);
    NodeProcess vcpu = startFromEnv("vcpu", seed);

    for (NodeProcess n : nodes) {
      await()
          .atMost(DEADLINE)
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(() -> assertThat(n.ready()).as(n.output()).isEqualTo(200));
      assertThat(n.get("/alive").statusCode()).isEqualTo(200);
    }
    for (NodeProcess n : nodes) {
      String members = n.get("/cluster/members").body();
      for (NodeProcess m : nodes) {
        assertThat(members).as("one cluster, seen from " + n.address()).contains(m.address());
      }
      assertThat(members.split("\"status\":\"Up\"", -1)).as(members).hasSize(4);
      // the seed node formed the cluster and the others joined it: it is the oldest, everywhere
      assertThat(members).contains("\"oldest\":\"" + gateway.address() + "\"");
    }

    WorkloadSpec spec = WorkloadParser.parse(WORKLOAD);
    RunResult got;
    ManagedChannel ch =
        NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
    try {
      await()
          .atMost(DEADLINE)
          .untilAsserted(
              () ->
                  assertThat(
                          HealthGrpc.newBlockingStub(ch)
                              .check(HealthCheckRequest.getDefaultInstance())
                              .getStatus())
                      .isEqualTo(ServingStatus.SERVING));
      got = new LockstepClient(ch, spec, config(), 0).run(null);
      ClusterServiceGrpc.ClusterServiceBlockingStub cluster =
          ClusterServiceGrpc.newBlockingStub(ch);
      assertThat(locate(cluster, "PageFrame", "host-0")).isEqualTo(gateway.address());
      assertThat(locate(cluster, "Ksm", "host-0")).isEqualTo(gateway.address());
      for (int vm = 0; vm < spec.vms(); vm++) {
        assertThat(locate(cluster, "GuestMmu", "vm-" + vm)).isEqualTo(mmu.address());
        assertThat(locate(cluster, "HostMmu", "vm-" + vm)).isEqualTo(mmu.address());
        assertThat(locate(cluster, "Vcpu", "vm-" + vm + "/vcpu-0")).isEqualTo(vcpu.address());
      }
    } finally {
      ch.shutdownNow();
    }

    RunResult one;
    try (GatewayMain.Running single = GatewayMain.start(GatewayMain.Settings.defaults())) {
      ManagedChannel c1 =
          NettyChannelBuilder.forAddress("127.0.0.1", single.port()).usePlaintext().build();
      try {
        one = new LockstepClient(c1, spec, config(), 0).run(null);
      } finally {
        c1.shutdownNow();
      }
    }
    assertThat(got.failures()).isEmpty();
    assertThat(got.totals().toMap()).isEqualTo(one.totals().toMap());
    for (int vm = 0; vm < spec.vms(); vm++) {
      assertThat(got.perVm().get(vm).toMap())
          .as("vm %d", vm)
          .isEqualTo(one.perVm().get(vm).toMap());
    }
    assertThat(got.simNanos()).isEqualTo(one.simNanos());
    assertThat(got.samples()).as("the KSM series").isEqualTo(one.samples());
    assertThat(got.host()).isEqualTo(one.host());
    assertThat(RunReport.row(got)).as("the table's row").containsExactly(RunReport.row(one));
    assertThat(got.totals().get(org.mmumesh.common.Counter.ACCESSES)).isEqualTo(2 * 1001L);
  }

  private static String locate(
      ClusterServiceGrpc.ClusterServiceBlockingStub cluster, String type, String id) {
    return cluster
        .locateEntity(LocateEntityRequest.newBuilder().setEntityType(type).setEntityId(id).build())
        .getNodeAddress();
  }

  private NodeProcess startFromEnv(String roles, String seed) {
    int port = NodeProcess.freePort();
    return start(
        List.of("--management-port", "" + NodeProcess.freePort()),
        Map.of("MMUMESH_ROLES", roles, "MMUMESH_SEED_NODES", seed, "MMUMESH_PORT", "" + port),
        port);
  }

  private NodeProcess start(List<String> args, Map<String, String> env, int port) {
    int mgmt = Integer.parseInt(args.get(args.indexOf("--management-port") + 1));
    NodeProcess n = NodeProcess.start(List.of(), args, env, port, mgmt);
    nodes.add(n);
    return n;
  }
}
