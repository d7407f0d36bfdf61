package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmumesh.gateway.GatewayMain;
import org.mmumesh.gateway.TestCertificates;
import picocli.CommandLine;

/**
 * TLS from the command line (issue 12 item 9), certificates made in the test: {@code serve} with
 * {@code --tls-cert/--tls-key/--tls-client-ca} serves mutual TLS, and {@code client --tls-ca
 * --tls-cert --tls-key run} creates a host and VMs and streams a workload through it; a client
 * without a certificate, or in plaintext, fails with one line saying what to give (exit 3, the
 * environment); configuration mistakes on {@code serve}, {@code node} and {@code client} exit 2
 * naming the option, with nothing started.
 */
class TlsCommandsTest {
  private static final String TINY =
      "identical:vms=1,vcpus=1,pages=64,mmu=64,seed=5,ws=64,read=0.9,accesses=2000";

  @TempDir static Path dir;
  private static TestCertificates certs;
  private static ServeCommand serve;
  private static CompletableFuture<Integer> serveExit;
  private static String target;

  @BeforeAll
  static void start() throws Exception {
    certs = TestCertificates.make(dir.resolve("certs"));
    serve = new ServeCommand();
    serve.stopOnSignals = false;
    CommandLine cl = new CommandLine(serve);
    StringWriter out = new StringWriter();
    cl.setOut(new PrintWriter(out));
    serveExit =
        CompletableFuture.supplyAsync(
            () ->
                cl.execute(
                    "--port",
                    "0",
                    "--metrics-port",
                    "0",
                    "--drain-seconds",
                    "1",
                    "--tls-cert",
                    certs.serverCert().toString(),
                    "--tls-key",
                    certs.serverKey().toString(),
                    "--tls-client-ca",
                    certs.ca().toString()));
    GatewayMain.Running r = serve.started.get(120, TimeUnit.SECONDS);
    target = "localhost:" + r.port();
    assertThat(out.toString())
        .contains("mmumesh gateway on 127.0.0.1:" + r.port() + " over mutual TLS");
  }

  @AfterAll
  static void stop() throws Exception {
    if (serve != null && serve.started.isDone()) {
      serve.started.get().close();
      assertThat(serveExit.get(60, TimeUnit.SECONDS)).isZero();
    }
  }

  private static CliRun client(String... args) {
    List<String> all = new ArrayList<>(List.of("client", "--target", target));
    all.addAll(List.of(args));
    return CliRun.of(all.toArray(String[]::new));
  }

  @Test
  void clientRun_overMutualTls_createsVmsAndStreamsTheWorkload() {
    CliRun run =
        client(
            "--tls-ca",
            certs.ca().toString(),
            "--tls-cert",
            certs.clientCert().toString(),
            "--tls-key",
            certs.clientKey().toString(),
            "run",
            "--workload",
            TINY,
            "--policy",
            "strict",
            "--host-id",
            "71",
            "--first-vm",
            "71",
            "--progress",
            "off");
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("vm 71: accesses 2,000  failed 0");
    // the options are inherited: given after the subcommand too
    CliRun hosts =
        CliRun.of(
            "client",
            "hosts",
            "--target",
            target,
            "--tls-ca",
            certs.ca().toString(),
            "--tls-cert",
            certs.clientCert().toString(),
            "--tls-key",
            certs.clientKey().toString());
    assertThat(hosts.exit()).as(hosts.err()).isZero();
    assertThat(hosts.out()).contains("71");
  }

  @Test
  void clientWithoutACertificate_isRefusedAtTheHandshake_sayingWhatToCheck() {
    CliRun r = client("--tls-ca", certs.ca().toString(), "hosts");
    assertThat(r.exit()).as(r.err()).isEqualTo(3);
    assertThat(r.err())
        .contains("mmumesh client: the TLS handshake with " + target + " failed")
        .contains("--tls-cert and --tls-key")
        .doesNotContain("\tat ");
  }

  @Test
  void plaintextClient_againstTheTlsGateway_isToldToUseTls() {
    CliRun r = client("hosts");
    assertThat(r.exit()).as(r.err()).isEqualTo(3);
    assertThat(r.err())
        .contains("UNAVAILABLE")
        .contains("if the gateway at " + target + " serves TLS, connect with --tls-ca FILE")
        .doesNotContain("\tat ");
  }

  @Test
  void clientMistakes_exit2NamingTheOption() {
    CliRun onlyCert = client("--tls-cert", certs.clientCert().toString(), "hosts");
    assertThat(onlyCert.exit()).isEqualTo(2);
    assertThat(onlyCert.err()).contains("--tls-cert is set but --tls-key is not");
    CliRun wrongKey =
        client(
            "--tls-cert",
            certs.clientCert().toString(),
            "--tls-key",
            certs.strayKey().toString(),
            "hosts");
    assertThat(wrongKey.exit()).isEqualTo(2);
    assertThat(wrongKey.err())
        .contains("--tls-key: the key (EC) does not belong to the certificate");
    Path missing = dir.resolve("missing-ca.pem");
    CliRun noCa = client("--tls-ca", missing.toString(), "hosts");
    assertThat(noCa.exit()).isEqualTo(2);
    assertThat(noCa.err()).contains("--tls-ca: " + missing + " does not exist");
  }

  @Test
  void serveMistakes_exit2NamingTheOption_andNothingStarts() {
    CliRun onlyKey = CliRun.of("serve", "--port", "0", "--tls-key", certs.serverKey().toString());
    assertThat(onlyKey.exit()).isEqualTo(2);
    assertThat(onlyKey.err()).contains("--tls-key is set but --tls-cert (MMUMESH_TLS_CERT,");
    CliRun mismatch =
        CliRun.of(
            "serve",
            "--port",
            "0",
            "--tls-cert",
            certs.serverCert().toString(),
            "--tls-key",
            certs.clientKey().toString());
    assertThat(mismatch.exit()).isEqualTo(2);
    assertThat(mismatch.err())
        .contains("--tls-key: the key (EC) does not belong to the certificate 'CN=localhost'");
    // the refusal comes before the gateway starts: the command never says it serves
    assertThat(mismatch.out()).doesNotContain("mmumesh gateway on");
  }

  @Test
  void nodeMistakes_fromOptionsOrEnvironment_exit2NamingThem() throws Exception {
    NodeCommand node = new NodeCommand();
    node.stopOnSignals = false;
    node.env = Map.of("MMUMESH_TLS_CERT", certs.serverCert().toString());
    CommandLine cl = new CommandLine(node);
    cl.setExecutionExceptionHandler(Main.commandLine().getExecutionExceptionHandler());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int exit =
        cl.execute(
            "--port", "0", "--grpc-port", "0", "--metrics-port", "0", "--management-port", "0");
    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).contains("MMUMESH_TLS_CERT is set but --tls-key (MMUMESH_TLS_KEY,");
    assertThat(out.toString()).doesNotContain("mmumesh node");
    Path missing = dir.resolve("missing-client-ca.pem");
    CliRun ca =
        CliRun.of(
            "node",
            "--port",
            "0",
            "--tls-cert",
            certs.serverCert().toString(),
            "--tls-key",
            certs.serverKey().toString(),
            "--tls-client-ca",
            missing.toString());
    assertThat(ca.exit()).isEqualTo(2);
    assertThat(ca.err()).contains("--tls-client-ca: " + missing + " does not exist");
    // TLS settings on a node that serves no gRPC would do nothing: refused, nothing started
    CliRun noGateway =
        CliRun.of(
            "node",
            "--roles",
            "mmu",
            "--seed-nodes",
            "127.0.0.1:2552",
            "--port",
            "0",
            "--tls-cert",
            certs.serverCert().toString(),
            "--tls-key",
            certs.serverKey().toString());
    assertThat(noGateway.exit()).isEqualTo(2);
    assertThat(noGateway.err())
        .contains("--tls-cert: this node has no gateway role (roles mmu)")
        .doesNotContain("Exception");
    assertThat(noGateway.out()).doesNotContain("mmumesh node");
  }
}
