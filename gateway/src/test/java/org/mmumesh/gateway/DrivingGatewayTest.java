package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.typesafe.config.ConfigFactory;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmumesh.mesh.NodeSettings;
import org.mmumesh.mesh.NodeSettings.Setting;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.ListHostsRequest;
import org.mmumesh.proto.v1.Policy;
import org.mmumesh.proto.v1.VmServiceGrpc;

/**
 * Two gateway nodes of one cluster (two node processes' nodes, here in one JVM): the oldest gateway
 * drives; the other refuses driving and memslot calls with FAILED_PRECONDITION naming the driving
 * gateway's node, and still serves the rest (hosts created on the driver, listed there).
 */
class DrivingGatewayTest {
  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static NodeSettings node(String roles, String seed, int port) throws IOException {
    Map<Setting, String> o = new EnumMap<>(Setting.class);
    o.put(Setting.ROLES, roles);
    o.put(Setting.SEED_NODES, seed);
    o.put(Setting.PORT, String.valueOf(port));
    o.put(Setting.GRPC_PORT, "0");
    o.put(Setting.METRICS_PORT, "0");
    o.put(Setting.MANAGEMENT_PORT, String.valueOf(freePort()));
    return NodeSettings.resolve(
        o, Map.of(), GatewayMain.meshConfig(ConfigFactory.empty(), Duration.ofSeconds(1)));
  }

  @Test
  void secondGateway_refusesDrivingCalls_namingTheDrivingGateway() throws IOException {
    int seedPort = freePort();
    String seed = "127.0.0.1:" + seedPort;
    try (GatewayMain.Running first =
            GatewayMain.startNode(
                node("gateway,frames,mmu,vcpu", seed, seedPort), Duration.ofSeconds(1));
        GatewayMain.Running second =
            GatewayMain.startNode(node("gateway", seed, freePort()), Duration.ofSeconds(1))) {
      String driver = first.cluster().address(0).toString();
      await()
          .atMost(Duration.ofMinutes(2))
          .until(() -> second.cluster().otherDrivingGateway(0).isPresent());
      assertThat(second.cluster().otherDrivingGateway(0).orElseThrow().toString())
          .isEqualTo(driver);
      assertThat(first.cluster().otherDrivingGateway(0)).isEmpty();

      ManagedChannel a =
          NettyChannelBuilder.forAddress("127.0.0.1", first.port()).usePlaintext().build();
      ManagedChannel b =
          NettyChannelBuilder.forAddress("127.0.0.1", second.port()).usePlaintext().build();
      try {
        HostServiceGrpc.newBlockingStub(a).createHost(SimulationEndToEndTest.host(5, false));
        VmServiceGrpc.newBlockingStub(a)
            .createVm(SimulationEndToEndTest.vm(7, 5, true, Policy.POLICY_STRICT, false));

        assertThatThrownBy(
                () ->
                    VmServiceGrpc.newBlockingStub(b)
                        .createVm(
                            SimulationEndToEndTest.vm(8, 5, true, Policy.POLICY_STRICT, false)))
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> {
                  assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                  assertThat(e.getStatus().getDescription())
                      .isEqualTo(
                          "mmumesh.v1.VmService/CreateVm: this gateway does not drive workloads;"
                              + " the gateway on node "
                              + driver
                              + " (the oldest gateway node of the cluster) does: send workload"
                              + " and memslot calls there");
                });
        // the rest is served by the second gateway too: the host and VM made on the first
        await()
            .atMost(Duration.ofMinutes(1))
            .untilAsserted(
                () ->
                    assertThat(
                            HostServiceGrpc.newBlockingStub(b)
                                .listHosts(ListHostsRequest.getDefaultInstance())
                                .toString())
                        .contains("host_id: 5")
                        .contains("vm_id: 7"));
      } finally {
        a.shutdownNow();
        b.shutdownNow();
      }
    }
  }
}
