package org.mmumesh.cli;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import org.mmumesh.gateway.TlsFiles;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code client} commands' TLS options (a picocli mixin, inherited by every subcommand): the CA
 * that signed the gateway's certificate, and the client's own certificate and key for a gateway
 * that asks for them (mutual TLS). Any of them set: TLS (without {@code --tls-ca}, the JDK's
 * trusted CAs); none: plaintext. The files are checked before any call ({@link TlsFiles}).
 */
final class ClientTlsOptions {
  @Option(
      names = "--tls-ca",
      paramLabel = "FILE",
      description = "Connect over TLS, trusting the gateway's certificate if this CA signed it.",
      scope = ScopeType.INHERIT)
  String ca;

  @Option(
      names = "--tls-cert",
      paramLabel = "FILE",
      description = "Mutual TLS: this client's certificate (PEM); needs --tls-key.",
      scope = ScopeType.INHERIT)
  String cert;

  @Option(
      names = "--tls-key",
      paramLabel = "FILE",
      description = "The private key of --tls-cert (PEM, unencrypted PKCS#8).",
      scope = ScopeType.INHERIT)
  String key;

  /** True if the client connects over TLS. */
  boolean enabled() {
    return ca != null || cert != null || key != null;
  }

  /**
   * The channel's credentials: TLS with these files, or plaintext.
   *
   * @throws IllegalArgumentException naming the option of a mistake (a missing or unreadable file,
   *     only one of certificate and key, a key that is not the certificate's)
   */
  ChannelCredentials credentials() {
    if (!enabled()) {
      return InsecureChannelCredentials.create();
    }
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException(
          (cert == null ? "--tls-key" : "--tls-cert")
              + " is set but "
              + (cert == null ? "--tls-cert" : "--tls-key")
              + " is not; a client certificate needs both the certificate and its private key");
    }
    TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
    try {
      if (ca != null) {
        Path caFile = Path.of(ca);
        TlsFiles.certificates("--tls-ca", caFile);
        b.trustManager(caFile.toFile());
      }
      if (cert != null) {
        Path certFile = Path.of(cert);
        Path keyFile = Path.of(key);
        List<X509Certificate> chain = TlsFiles.certificates("--tls-cert", certFile);
        TlsFiles.checkPair(
            "--tls-cert", chain.get(0), "--tls-key", TlsFiles.privateKey("--tls-key", keyFile));
        b.keyManager(certFile.toFile(), keyFile.toFile());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return b.build();
  }
}
