package org.mmumesh.gateway;

import com.typesafe.config.Config;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS for the gRPC gateway (issue 12 item 9): the server's certificate chain and private key (PEM,
 * the key unencrypted PKCS#8), and optionally a CA whose certificates clients must present (mutual
 * TLS: a client without a certificate from that CA is refused at the handshake). Served with
 * grpc-java's {@link TlsServerCredentials} on Netty. Each file comes from a command-line option,
 * else an environment variable, else a HOCON key, as the node's own settings do:
 *
 * <table>
 *   <caption>gateway TLS settings</caption>
 *   <tr><th>option</th><th>environment</th><th>HOCON</th></tr>
 *   <tr><td>--tls-cert</td><td>MMUMESH_TLS_CERT</td><td>mmumesh.gateway.tls.cert</td>
 *   <tr><td>--tls-key</td><td>MMUMESH_TLS_KEY</td><td>mmumesh.gateway.tls.key</td>
 *   <tr><td>--tls-client-ca</td><td>MMUMESH_TLS_CLIENT_CA</td>
 *       <td>mmumesh.gateway.tls.client-ca</td>
 * </table>
 *
 * Neither certificate nor key: plaintext (the default). {@link #resolve} checks everything before
 * anything starts ({@link TlsFiles}): both of certificate and key or neither, the files readable,
 * the key the certificate's, a client CA only with them.
 *
 * @param cert the server's certificate chain, PEM
 * @param key the server's private key, PEM (PKCS#8, unencrypted)
 * @param clientCa the CA certificates that client certificates must chain to, or null (no client
 *     certificates asked for)
 */
public record GatewayTls(Path cert, Path key, Path clientCa) {

  /** One setting: its option, environment variable and HOCON key. */
  public enum Setting {
    CERT("--tls-cert", "MMUMESH_TLS_CERT", "cert"),
    KEY("--tls-key", "MMUMESH_TLS_KEY", "key"),
    CLIENT_CA("--tls-client-ca", "MMUMESH_TLS_CLIENT_CA", "client-ca");

    /** The command-line option. */
    public final String option;

    /** The environment variable. */
    public final String env;

    /** The HOCON key. */
    public final String key;

    Setting(String option, String env, String key) {
      this.option = option;
      this.env = env;
      this.key = "mmumesh.gateway.tls." + key;
    }
  }

  /** Checks that certificate and key are given. */
  public GatewayTls {
    Objects.requireNonNull(cert, "cert");
    Objects.requireNonNull(key, "key");
  }

  /** True if clients must present a certificate (mutual TLS). */
  public boolean mutual() {
    return clientCa != null;
  }

  /**
   * The TLS settings from {@code options} (by setting), else {@code env}, else {@code config}'s
   * {@code mmumesh.gateway.tls.*} keys; empty when neither certificate nor key is set anywhere.
   *
   * @throws IllegalArgumentException naming the option, variable or key of a mistake: only one of
   *     certificate and key, a client CA without them, a file missing or unreadable or not PEM, a
   *     certificate expired, a key that is not the certificate's
   */
  public static Optional<GatewayTls> resolve(
      Map<Setting, String> options, Map<String, String> env, Config config) {
    Map<Setting, String[]> chosen = new EnumMap<>(Setting.class); // name, value
    for (Setting s : Setting.values()) {
      String flag = options.get(s);
      String fromEnv = env.get(s.env);
      if (flag != null && !flag.isBlank()) {
        chosen.put(s, new String[] {s.option, flag});
      } else if (fromEnv != null && !fromEnv.isBlank()) {
        chosen.put(s, new String[] {s.env, fromEnv});
      } else if (config.hasPath(s.key) && !config.getString(s.key).isBlank()) {
        chosen.put(s, new String[] {s.key, config.getString(s.key)});
      }
    }
    String[] cert = chosen.get(Setting.CERT);
    String[] key = chosen.get(Setting.KEY);
    String[] ca = chosen.get(Setting.CLIENT_CA);
    if (cert == null && key == null) {
      if (ca != null) {
        throw new IllegalArgumentException(
            ca[0]
                + " asks clients for certificates, but the gateway has no certificate of its"
                + " own; give "
                + Setting.CERT.option
                + " and "
                + Setting.KEY.option
                + " too");
      }
      return Optional.empty();
    }
    if (cert == null || key == null) {
      String[] given = cert == null ? key : cert;
      Setting missing = cert == null ? Setting.CERT : Setting.KEY;
      throw new IllegalArgumentException(
          given[0]
              + " is set but "
              + missing.option
              + " ("
              + missing.env
              + ", "
              + missing.key
              + ") is not; TLS needs both the certificate and its private key");
    }
    Path certFile = Path.of(cert[1].trim());
    Path keyFile = Path.of(key[1].trim());
    List<X509Certificate> chain = TlsFiles.certificates(cert[0], certFile);
    TlsFiles.checkPair(cert[0], chain.get(0), key[0], TlsFiles.privateKey(key[0], keyFile));
    Path caFile = null;
    if (ca != null) {
      caFile = Path.of(ca[1].trim());
      TlsFiles.certificates(ca[0], caFile);
    }
    return Optional.of(new GatewayTls(certFile, keyFile, caFile));
  }

  /** grpc-java's server credentials for these files (client certificates required if mutual). */
  public ServerCredentials serverCredentials() {
    try {
      TlsServerCredentials.Builder b =
          TlsServerCredentials.newBuilder().keyManager(cert.toFile(), key.toFile());
      if (clientCa != null) {
        b.trustManager(clientCa.toFile()).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
      }
      return b.build();
    } catch (IOException e) {
      throw new UncheckedIOException("gateway TLS: cannot read " + e.getMessage(), e);
    }
  }

  /** {@code TLS} or {@code mutual TLS}, for the line a server prints. */
  public String describe() {
    return mutual() ? "mutual TLS" : "TLS";
  }
}
