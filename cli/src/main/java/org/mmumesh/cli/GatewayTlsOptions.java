package org.mmumesh.cli;

import com.typesafe.config.Config;
import java.util.EnumMap;
import java.util.Map;
import org.mmumesh.gateway.GatewayTls;
import org.mmumesh.gateway.GatewayTls.Setting;
import picocli.CommandLine.Option;

/**
 * The gateway's TLS options, shared by {@code serve} and {@code node} (a picocli mixin): the
 * server's certificate and key, and the CA of the client certificates for mutual TLS. Each can also
 * come from the environment or HOCON ({@link GatewayTls} has the table); nothing set: plaintext.
 */
final class GatewayTlsOptions {
  @Option(
      names = "--tls-cert",
      paramLabel = "FILE",
      description = "Serve gRPC over TLS with this certificate chain (PEM); needs --tls-key.")
  String cert;

  @Option(
      names = "--tls-key",
      paramLabel = "FILE",
      description = "The private key of --tls-cert (PEM, unencrypted PKCS#8).")
  String key;

  @Option(
      names = "--tls-client-ca",
      paramLabel = "FILE",
      description = "Mutual TLS: require client certificates signed by this CA (PEM).")
  String clientCa;

  /**
   * The TLS settings: these options, else {@code env}, else {@code config}'s keys; null for
   * plaintext.
   *
   * @throws IllegalArgumentException naming the option, variable or key of a mistake
   */
  GatewayTls resolve(Map<String, String> env, Config config) {
    Map<Setting, String> options = new EnumMap<>(Setting.class);
    if (cert != null) {
      options.put(Setting.CERT, cert);
    }
    if (key != null) {
      options.put(Setting.KEY, key);
    }
    if (clientCa != null) {
      options.put(Setting.CLIENT_CA, clientCa);
    }
    return GatewayTls.resolve(options, env, config).orElse(null);
  }
}
