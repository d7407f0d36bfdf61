package org.mmumesh.gateway;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates made in the test (BouncyCastle's bcpkix, test scope): a CA, a server certificate it
 * signed for {@code localhost} and {@code 127.0.0.1}, a client certificate it signed, a second CA
 * (whose client certificate a mutual-TLS gateway must refuse) and a stray key. EC P-256 keys (fast
 * to make); PEM files, the keys unencrypted PKCS#8, in one directory.
 *
 * @param dir where the files are
 */
public record TestCertificates(Path dir) {

  /**
   * The CA's certificate (clients trust it; a mutual-TLS gateway takes its client certificates).
   */
  public Path ca() {
    return dir.resolve("ca.pem");
  }

  /** The server's certificate, signed by {@link #ca}, for localhost and 127.0.0.1. */
  public Path serverCert() {
    return dir.resolve("server.pem");
  }

  /** The server certificate's key. */
  public Path serverKey() {
    return dir.resolve("server.key");
  }

  /** A client certificate signed by {@link #ca}. */
  public Path clientCert() {
    return dir.resolve("client.pem");
  }

  /** The client certificate's key. */
  public Path clientKey() {
    return dir.resolve("client.key");
  }

  /** A client certificate signed by another CA (not {@link #ca}). */
  public Path strangerCert() {
    return dir.resolve("stranger.pem");
  }

  /** The stranger certificate's key. */
  public Path strangerKey() {
    return dir.resolve("stranger.key");
  }

  /** A key that belongs to no certificate here. */
  public Path strayKey() {
    return dir.resolve("stray.key");
  }

  /**
   * A PKCS#12 key store at {@code file} holding {@code cert}'s key and chain (with {@link #ca} if
   * it signed it), under the alias {@code node}, for Pekko's {@code config-ssl-engine.key-store}.
   */
  public Path keyStore(Path cert, Path key, Path file, String password) {
    try {
      java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      java.util.List<java.security.cert.Certificate> chain =
          new java.util.ArrayList<>(TlsFiles.certificates("cert", cert));
      java.security.cert.X509Certificate caCert = TlsFiles.certificates("ca", ca()).get(0);
      if (((java.security.cert.X509Certificate) chain.get(0))
          .getIssuerX500Principal()
          .equals(caCert.getSubjectX500Principal())) {
        chain.add(caCert);
      }
      ks.setKeyEntry(
          "node",
          TlsFiles.privateKey("key", key),
          password.toCharArray(),
          chain.toArray(java.security.cert.Certificate[]::new));
      try (var out = Files.newOutputStream(file)) {
        ks.store(out, password.toCharArray());
      }
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A PKCS#12 trust store at {@code file} holding {@code caCert} (Pekko's {@code trust-store}). */
  public static Path trustStore(Path caCert, Path file, String password) {
    try {
      java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setCertificateEntry("ca", TlsFiles.certificates("ca", caCert).get(0));
      try (var out = Files.newOutputStream(file)) {
        ks.store(out, password.toCharArray());
      }
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Makes every file in {@code dir}, valid from an hour ago for a day. */
  public static TestCertificates make(Path dir) {
    try {
      Files.createDirectories(dir);
      TestCertificates t = new TestCertificates(dir);
      KeyPair caKeys = ecKeys();
      X500Name caName = new X500Name("CN=mmumesh test CA");
      X509CertificateHolder ca = sign(caName, caKeys.getPrivate(), caName, caKeys, true, false);
      writePem(t.ca(), ca);
      KeyPair serverKeys = ecKeys();
      writePem(
          t.serverCert(),
          sign(caName, caKeys.getPrivate(), new X500Name("CN=localhost"), serverKeys, false, true));
      writeKey(t.serverKey(), serverKeys.getPrivate());
      KeyPair clientKeys = ecKeys();
      writePem(
          t.clientCert(),
          sign(
              caName,
              caKeys.getPrivate(),
              new X500Name("CN=mmumesh test client"),
              clientKeys,
              false,
              false));
      writeKey(t.clientKey(), clientKeys.getPrivate());
      KeyPair otherCa = ecKeys();
      X500Name otherName = new X500Name("CN=another CA");
      KeyPair strangerKeys = ecKeys();
      writePem(
          t.strangerCert(),
          sign(
              otherName,
              otherCa.getPrivate(),
              new X500Name("CN=stranger"),
              strangerKeys,
              false,
              false));
      writeKey(t.strangerKey(), strangerKeys.getPrivate());
      writeKey(t.strayKey(), ecKeys().getPrivate());
      return t;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static KeyPair ecKeys() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static X509CertificateHolder sign(
      X500Name issuer,
      PrivateKey issuerKey,
      X500Name subject,
      KeyPair subjectKeys,
      boolean isCa,
      boolean server)
      throws IOException, OperatorCreationException {
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            issuer,
            BigInteger.valueOf(now.toEpochMilli()).add(BigInteger.valueOf(System.nanoTime())),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(Duration.ofDays(1))),
            subject,
            subjectKeys.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
    if (isCa) {
      b.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    } else {
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
    }
    if (server) {
      b.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(
              new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1")
              }));
    }
    ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey);
    return b.build(signer);
  }

  private static void writePem(Path file, Object o) throws IOException {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(w)) {
      pem.writeObject(o);
    }
    Files.writeString(file, w.toString());
  }

  /** PKCS#8 PEM ({@code BEGIN PRIVATE KEY}): the JDK's encoding of a private key is PKCS#8. */
  private static void writeKey(Path file, PrivateKey key) throws IOException {
    String b64 = Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key.getEncoded());
    Files.writeString(
        file, "-----BEGIN PRIVATE KEY-----\n" + b64 + "\n-----END PRIVATE KEY-----\n");
  }
}
