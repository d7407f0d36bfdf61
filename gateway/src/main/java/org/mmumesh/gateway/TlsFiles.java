package org.mmumesh.gateway;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Reads and checks the PEM files of a TLS configuration before anything starts, so that a mistake
 * is one line naming the option (or variable or key) the file came from, not a Netty stack trace at
 * the first handshake: the file exists and is readable, a certificate file holds X.509 certificates
 * valid today, a key file holds one unencrypted PKCS#8 private key ({@code BEGIN PRIVATE KEY}, what
 * grpc-java's {@code keyManager(File, File)} reads), and the key belongs to the first certificate
 * (a signature made with the key verifies with the certificate's public key). Every failure is an
 * {@link IllegalArgumentException} whose message starts with the given name.
 */
public final class TlsFiles {
  private TlsFiles() {}

  private static final String CERT_BEGIN = "-----BEGIN CERTIFICATE-----";
  private static final String KEY_BEGIN = "-----BEGIN PRIVATE KEY-----";
  private static final String KEY_END = "-----END PRIVATE KEY-----";

  /**
   * The certificates in the PEM file {@code file} (a chain: the leaf first), each valid today.
   *
   * @param name the option, variable or key that named the file
   * @throws IllegalArgumentException naming {@code name}: unreadable, no certificate, expired
   */
  public static List<X509Certificate> certificates(String name, Path file) {
    String pem = read(name, file);
    if (!pem.contains(CERT_BEGIN)) {
      throw new IllegalArgumentException(
          name
              + ": "
              + file
              + " holds no PEM certificate; allowed: X.509 in PEM ("
              + CERT_BEGIN
              + ")");
    }
    List<X509Certificate> certs = new ArrayList<>();
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      for (var c :
          cf.generateCertificates(
              new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
        certs.add((X509Certificate) c);
      }
    } catch (CertificateException e) {
      throw new IllegalArgumentException(
          name + ": " + file + " is not a readable PEM certificate (" + e.getMessage() + ")");
    }
    for (X509Certificate c : certs) {
      try {
        c.checkValidity();
      } catch (CertificateExpiredException e) {
        throw new IllegalArgumentException(
            name
                + ": the certificate "
                + subject(c)
                + " in "
                + file
                + " expired on "
                + c.getNotAfter().toInstant());
      } catch (CertificateNotYetValidException e) {
        throw new IllegalArgumentException(
            name
                + ": the certificate "
                + subject(c)
                + " in "
                + file
                + " is valid only from "
                + c.getNotBefore().toInstant());
      }
    }
    return certs;
  }

  /**
   * The unencrypted PKCS#8 private key in the PEM file {@code file}.
   *
   * @param name the option, variable or key that named the file
   * @throws IllegalArgumentException naming {@code name}: unreadable, not a PKCS#8 key (a PKCS#1 or
   *     SEC1 key is named, with the openssl command that converts it), encrypted
   */
  public static PrivateKey privateKey(String name, Path file) {
    String pem = read(name, file);
    int begin = pem.indexOf(KEY_BEGIN);
    int end = pem.indexOf(KEY_END);
    if (begin < 0 || end < begin) {
      String found =
          pem.contains("-----BEGIN RSA PRIVATE KEY-----")
              ? "a PKCS#1 RSA key"
              : pem.contains("-----BEGIN EC PRIVATE KEY-----")
                  ? "a SEC1 EC key"
                  : pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
                      ? "an encrypted key"
                      : "no PEM private key";
      throw new IllegalArgumentException(
          name
              + ": "
              + file
              + " holds "
              + found
              + "; allowed: an unencrypted PKCS#8 key in PEM ("
              + KEY_BEGIN
              + "), e.g. from `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pem`");
    }
    byte[] der;
    try {
      der =
          Base64.getMimeDecoder()
              .decode(pem.substring(begin + KEY_BEGIN.length(), end).replaceAll("\\s", ""));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          name
              + ": "
              + file
              + ": the private key's base64 does not decode ("
              + e.getMessage()
              + ")");
    }
    for (String alg : new String[] {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS"}) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // not this algorithm: try the next
      }
    }
    throw new IllegalArgumentException(
        name
            + ": "
            + file
            + " holds a PKCS#8 key of no supported algorithm; allowed: RSA, EC,"
            + " Ed25519, Ed448");
  }

  /**
   * Checks that {@code key} is the private key of {@code cert}: a signature made with it verifies
   * with the certificate's public key.
   *
   * @throws IllegalArgumentException naming both options when they do not belong together
   */
  public static void checkPair(
      String certName, X509Certificate cert, String keyName, PrivateKey key) {
    PublicKey pub = cert.getPublicKey();
    boolean matches = false;
    String sigAlg = signatureAlgorithm(key.getAlgorithm());
    if (sigAlg != null && sameFamily(key.getAlgorithm(), pub.getAlgorithm())) {
      try {
        byte[] challenge = "mmumesh key-pair check".getBytes(StandardCharsets.US_ASCII);
        Signature s = Signature.getInstance(sigAlg);
        s.initSign(key);
        s.update(challenge);
        byte[] sig = s.sign();
        Signature v = Signature.getInstance(sigAlg);
        v.initVerify(pub);
        v.update(challenge);
        matches = v.verify(sig);
      } catch (GeneralSecurityException e) {
        matches = false;
      }
    }
    if (!matches) {
      throw new IllegalArgumentException(
          keyName
              + ": the key ("
              + key.getAlgorithm()
              + ") does not belong to the certificate "
              + subject(cert)
              + " of "
              + certName
              + " ("
              + pub.getAlgorithm()
              + "); give the key the certificate was issued for");
    }
  }

  private static boolean sameFamily(String keyAlg, String pubAlg) {
    return keyAlg.equals(pubAlg)
        || (keyAlg.startsWith("Ed") && pubAlg.startsWith("Ed"))
        || (keyAlg.equals("EdDSA") || pubAlg.equals("EdDSA"));
  }

  private static String signatureAlgorithm(String keyAlg) {
    return switch (keyAlg) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "Ed448", "EdDSA" -> "EdDSA";
      default -> null;
    };
  }

  private static String subject(X509Certificate c) {
    return "'" + c.getSubjectX500Principal().getName() + "'";
  }

  private static String read(String name, Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          name + ": " + file + (Files.exists(file) ? " is not a file" : " does not exist"));
    }
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new IllegalArgumentException(name + ": " + file + " is not a PEM text file");
    } catch (IOException e) {
      throw new IllegalArgumentException(name + ": " + file + " cannot be read (" + e + ")");
    }
  }
}
