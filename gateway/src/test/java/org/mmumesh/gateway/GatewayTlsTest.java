package org.mmumesh.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.typesafe.config.ConfigFactory;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmumesh.gateway.GatewayTls.Setting;
import org.mmumesh.proto.v1.AccessKind;
import org.mmumesh.proto.v1.AccessRequest;
import org.mmumesh.proto.v1.AccessServiceGrpc;
import org.mmumesh.proto.v1.AccessTrace;
import org.mmumesh.proto.v1.EchoRequest;
import org.mmumesh.proto.v1.EchoServiceGrpc;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.Policy;
import org.mmumesh.proto.v1.VmServiceGrpc;

/**
 * The gateway over TLS (issue 12 item 9) with certificates made in the test ({@link
 * TestCertificates}): a real Netty channel trusting the test CA creates a host and a VM and runs a
 * traced access; a plaintext client is refused (UNAVAILABLE, nothing served); under mutual TLS a
 * client without a certificate, or with one from another CA, is refused and one with the CA's
 * certificate is served. And every configuration mistake is refused before anything starts, naming
 * the option, variable or key.
 */
class GatewayTlsTest {
  private static final long WINDOW = 0x1000_0000L;

  @TempDir static Path dir;
  private static TestCertificates certs;
  private static GatewayMain.Running gateway;

  @BeforeAll
  static void start() {
    certs = TestCertificates.make(dir.resolve("certs"));
    GatewayTls tls = new GatewayTls(certs.serverCert(), certs.serverKey(), null);
    gateway =
        GatewayMain.start(
            new GatewayMain.Settings(
                "127.0.0.1", 0, 0, Duration.ofSeconds(1), ConfigFactory.empty(), tls));
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  private static ManagedChannel tlsChannel(int port, ChannelCredentials creds) {
    return NettyChannelBuilder.forAddress("localhost", port, creds).build();
  }

  private static ChannelCredentials trustingCa() throws IOException {
    return TlsChannelCredentials.newBuilder().trustManager(certs.ca().toFile()).build();
  }

  private static void close(ManagedChannel ch) throws InterruptedException {
    ch.shutdownNow();
    ch.awaitTermination(10, TimeUnit.SECONDS);
  }

  @Test
  void tlsChannel_createsAVm_andRunsAnAccess() throws Exception {
    ManagedChannel ch = tlsChannel(gateway.port(), trustingCa());
    try {
      HostServiceGrpc.newBlockingStub(ch)
          .withDeadlineAfter(60, TimeUnit.SECONDS)
          .createHost(SimulationEndToEndTest.host(1, false));
      VmServiceGrpc.newBlockingStub(ch)
          .withDeadlineAfter(60, TimeUnit.SECONDS)
          .createVm(SimulationEndToEndTest.vm(1, 1, true, Policy.POLICY_STRICT, false));
      AccessTrace trace =
          AccessServiceGrpc.newBlockingStub(ch)
              .withDeadlineAfter(60, TimeUnit.SECONDS)
              .access(
                  AccessRequest.newBuilder()
                      .setVcpu(MalformedRequests.vcpu(1, 0))
                      .setKind(AccessKind.ACCESS_KIND_STORE)
                      .setEffectiveAddr(WINDOW + 3 * 4096L)
                      .setStoreValue(7)
                      .build())
              .getTrace();
      assertThat(trace.getCompleted()).as(trace.getFailure()).isTrue();
      assertThat(trace.getFaultsList()).isNotEmpty();
    } finally {
      close(ch);
    }
  }

  @Test
  void plaintextClient_againstTheTlsGateway_isRefusedUnavailable() throws Exception {
    ManagedChannel ch =
        NettyChannelBuilder.forAddress("127.0.0.1", gateway.port()).usePlaintext().build();
    try {
      Status s =
          Mesh.statusOf(
              () ->
                  EchoServiceGrpc.newBlockingStub(ch)
                      .withDeadlineAfter(30, TimeUnit.SECONDS)
                      .echo(EchoRequest.getDefaultInstance()));
      assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    } finally {
      close(ch);
    }
  }

  @Test
  void tlsClient_notTrustingTheServersCa_isRefusedUnavailable() throws Exception {
    ChannelCredentials wrongCa =
        TlsChannelCredentials.newBuilder().trustManager(certs.strangerCert().toFile()).build();
    ManagedChannel ch = tlsChannel(gateway.port(), wrongCa);
    try {
      Status s =
          Mesh.statusOf(
              () ->
                  EchoServiceGrpc.newBlockingStub(ch)
                      .withDeadlineAfter(30, TimeUnit.SECONDS)
                      .echo(EchoRequest.getDefaultInstance()));
      assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    } finally {
      close(ch);
    }
  }

  @Test
  void mutualTls_refusesClientsWithoutTheCasCertificate_andServesOneWithIt() throws Exception {
    GatewayTls tls = new GatewayTls(certs.serverCert(), certs.serverKey(), certs.ca());
    GatewayServer server =
        GatewayServer.netty("127.0.0.1", 0, tls, List.of(new EchoService()), List.of()).start();
    try {
      ByteString payload = ByteString.copyFromUtf8("over mutual TLS");
      ManagedChannel noCert = tlsChannel(server.port(), trustingCa());
      ManagedChannel stranger =
          tlsChannel(
              server.port(),
              TlsChannelCredentials.newBuilder()
                  .trustManager(certs.ca().toFile())
                  .keyManager(certs.strangerCert().toFile(), certs.strangerKey().toFile())
                  .build());
      ManagedChannel client =
          tlsChannel(
              server.port(),
              TlsChannelCredentials.newBuilder()
                  .trustManager(certs.ca().toFile())
                  .keyManager(certs.clientCert().toFile(), certs.clientKey().toFile())
                  .build());
      try {
        for (ManagedChannel refused : List.of(noCert, stranger)) {
          Status s =
              Mesh.statusOf(
                  () ->
                      EchoServiceGrpc.newBlockingStub(refused)
                          .withDeadlineAfter(30, TimeUnit.SECONDS)
                          .echo(EchoRequest.newBuilder().setPayload(payload).build()));
          assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        }
        assertThat(
                EchoServiceGrpc.newBlockingStub(client)
                    .withDeadlineAfter(30, TimeUnit.SECONDS)
                    .echo(EchoRequest.newBuilder().setPayload(payload).build())
                    .getPayload())
            .isEqualTo(payload);
      } finally {
        close(noCert);
        close(stranger);
        close(client);
      }
    } finally {
      server.shutdown(Duration.ZERO);
    }
  }

  // ---- configuration mistakes: refused before anything starts, naming where the value came from

  private static Map<Setting, String> opts(Object... kv) {
    java.util.EnumMap<Setting, String> m = new java.util.EnumMap<>(Setting.class);
    for (int i = 0; i < kv.length; i += 2) {
      m.put((Setting) kv[i], kv[i + 1].toString());
    }
    return m;
  }

  private static GatewayTls resolve(Map<Setting, String> options, Map<String, String> env) {
    return GatewayTls.resolve(options, env, ConfigFactory.empty()).orElse(null);
  }

  @Test
  void resolve_nothingSet_isPlaintext() {
    assertThat(resolve(opts(), Map.of())).isNull();
  }

  @Test
  void resolve_certAndKey_fromOptionsEnvOrHocon() {
    assertThat(
            resolve(
                opts(Setting.CERT, certs.serverCert(), Setting.KEY, certs.serverKey()), Map.of()))
        .isEqualTo(new GatewayTls(certs.serverCert(), certs.serverKey(), null));
    assertThat(
            resolve(
                opts(),
                Map.of(
                    "MMUMESH_TLS_CERT", certs.serverCert().toString(),
                    "MMUMESH_TLS_KEY", certs.serverKey().toString(),
                    "MMUMESH_TLS_CLIENT_CA", certs.ca().toString())))
        .isEqualTo(new GatewayTls(certs.serverCert(), certs.serverKey(), certs.ca()));
    GatewayTls fromHocon =
        GatewayTls.resolve(
                opts(),
                Map.of(),
                ConfigFactory.parseMap(
                    Map.of(
                        "mmumesh.gateway.tls.cert", certs.serverCert().toString(),
                        "mmumesh.gateway.tls.key", certs.serverKey().toString())))
            .orElseThrow();
    assertThat(fromHocon.mutual()).isFalse();
    assertThat(fromHocon.cert()).isEqualTo(certs.serverCert());
  }

  @Test
  void resolve_onlyTheCertificate_namesTheMissingKeyOption() {
    assertThatThrownBy(() -> resolve(opts(Setting.CERT, certs.serverCert()), Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "--tls-cert is set but --tls-key (MMUMESH_TLS_KEY,"
                + " mmumesh.gateway.tls.key) is not");
    assertThatThrownBy(
            () -> resolve(opts(), Map.of("MMUMESH_TLS_KEY", certs.serverKey().toString())))
        .hasMessageStartingWith("MMUMESH_TLS_KEY is set but --tls-cert");
  }

  @Test
  void resolve_clientCaWithoutServerCertificate_isRefused() {
    assertThatThrownBy(() -> resolve(opts(Setting.CLIENT_CA, certs.ca()), Map.of()))
        .hasMessageStartingWith("--tls-client-ca asks clients for certificates")
        .hasMessageContaining("--tls-cert and --tls-key");
  }

  @Test
  void resolve_missingFile_namesTheOptionAndThePath() {
    Path missing = dir.resolve("nope.pem");
    assertThatThrownBy(
            () -> resolve(opts(Setting.CERT, missing, Setting.KEY, certs.serverKey()), Map.of()))
        .hasMessage("--tls-cert: " + missing + " does not exist");
  }

  @Test
  void resolve_keyNotTheCertificates_namesBoth() {
    assertThatThrownBy(
            () ->
                resolve(
                    opts(Setting.CERT, certs.serverCert(), Setting.KEY, certs.strayKey()),
                    Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("--tls-key: the key (EC) does not belong to the certificate")
        .hasMessageContaining("CN=localhost")
        .hasMessageContaining("of --tls-cert");
  }

  @Test
  void resolve_certificateGivenAsKey_andPkcs1Key_areNamed() throws IOException {
    assertThatThrownBy(
            () ->
                resolve(
                    opts(Setting.CERT, certs.serverCert(), Setting.KEY, certs.serverCert()),
                    Map.of()))
        .hasMessageStartingWith("--tls-key: " + certs.serverCert() + " holds no PEM private key");
    Path pkcs1 = dir.resolve("rsa.key");
    Files.writeString(
        pkcs1, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
    assertThatThrownBy(
            () -> resolve(opts(Setting.CERT, certs.serverCert(), Setting.KEY, pkcs1), Map.of()))
        .hasMessageContaining("holds a PKCS#1 RSA key")
        .hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
  }

  @Test
  void resolve_garbageCertificate_andBinaryFile_areNamed() throws IOException {
    Path garbage = dir.resolve("garbage.pem");
    Files.writeString(
        garbage, "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
    assertThatThrownBy(
            () -> resolve(opts(Setting.CERT, garbage, Setting.KEY, certs.serverKey()), Map.of()))
        .hasMessageStartingWith("--tls-cert: " + garbage + " is not a readable PEM certificate");
    Path binary = dir.resolve("binary.der");
    Files.write(binary, new byte[] {(byte) 0x30, (byte) 0x82, (byte) 0xff, (byte) 0xfe});
    assertThatThrownBy(
            () ->
                resolve(
                    opts(
                        Setting.CERT,
                        certs.serverCert(),
                        Setting.KEY,
                        binary,
                        Setting.CLIENT_CA,
                        certs.ca()),
                    Map.of()))
        .hasMessage("--tls-key: " + binary + " is not a PEM text file");
  }
}
