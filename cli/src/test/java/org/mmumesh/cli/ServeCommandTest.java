package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.mmumesh.gateway.GatewayMain;
import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.HostMmuKind;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.ListHostsRequest;
import picocli.CommandLine;

class ServeCommandTest {

  @Test
  void badPorts_areRefusedNamingTheOption_andNothingStarts() {
    assertThat(CliRun.of("serve", "--port", "70000").err())
        .contains("--port: 70000 is out of range; allowed 0 to 65535");
    assertThat(CliRun.of("serve", "--metrics-port", "-1").err())
        .contains("--metrics-port: -1 is out of range");
    assertThat(CliRun.of("serve", "--memory-budget", "lots").err())
        .contains("--memory-budget: lots is not a size; allowed: auto, or bytes");
  }

  @Test
  void serve_answersHealthAndTheApi_untilStopped() throws Exception {
    ServeCommand cmd = new ServeCommand();
    cmd.stopOnSignals = false;
    CommandLine cl = new CommandLine(cmd);
    StringWriter out = new StringWriter();
    cl.setOut(new PrintWriter(out));
    CompletableFuture<Integer> exit =
        CompletableFuture.supplyAsync(
            () ->
                cl.execute(
                    "--port",
                    "0",
                    "--metrics-port",
                    "0",
                    "--drain-seconds",
                    "2",
                    "--memory-budget",
                    "64m"));
    GatewayMain.Running r = cmd.started.get(120, TimeUnit.SECONDS);
    assertThat(r.simulation().memoryBudget().budgetBytes()).isEqualTo(64L << 20);
    ManagedChannel ch =
        NettyChannelBuilder.forAddress("127.0.0.1", r.port()).usePlaintext().build();
    try {
      assertThat(out.toString()).contains("mmumesh gateway on 127.0.0.1:" + r.port());
      assertThat(
              HealthGrpc.newBlockingStub(ch)
                  .check(HealthCheckRequest.getDefaultInstance())
                  .getStatus())
          .isEqualTo(ServingStatus.SERVING);
      HostServiceGrpc.HostServiceBlockingStub hosts = HostServiceGrpc.newBlockingStub(ch);
      hosts.createHost(
          CreateHostRequest.newBuilder()
              .setHostId(3)
              .setHostMmu(HostMmuKind.HOST_MMU_KIND_64)
              .setMaxFrames(1024)
              .build());
      assertThat(hosts.listHosts(ListHostsRequest.getDefaultInstance()).getHostsList())
          .anySatisfy(h -> assertThat(h.getHostId()).isEqualTo(3));
    } finally {
      ch.shutdownNow();
      r.close();
    }
    assertThat(exit.get(60, TimeUnit.SECONDS)).isZero();
  }
}
