package org.mmumesh.workload;

import org.mmumesh.common.Fingerprint;

/** Derivation of independent sub-seeds from a run seed, so every stream is reproducible. */
final class Seeds {
  private Seeds() {}

  /** Distinct salts per use, so e.g. the image and the access streams never share a stream. */
  static final long SALT_IMAGE = 0x494D414745L;

  static final long SALT_ACCESS = 0x414343455353L;
  static final long SALT_PERMUTE = 0x5045524DL;
  static final long SALT_STORE = 0x53544F5245L;

  /** A seed for {@code salt} and the pair {@code (a, b)} (e.g. vm and vcpu). */
  static long derive(long seed, long salt, long a, long b) {
    long h = Fingerprint.avalanche(seed ^ Fingerprint.avalanche(salt));
    h = Fingerprint.avalanche(h + 0x9E3779B97F4A7C15L * (a + 1));
    return Fingerprint.avalanche(h + 0xC2B2AE3D27D4EB4FL * (b + 1));
  }
}
