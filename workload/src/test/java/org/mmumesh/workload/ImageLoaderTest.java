package org.mmumesh.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmumesh.common.Fingerprint;

class ImageLoaderTest {
  @TempDir Path dir;

  private static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  private static byte[] page(byte[] data, int p) {
    byte[] pg = new byte[4096];
    int len = Math.min(4096, data.length - p * 4096);
    System.arraycopy(data, p * 4096, pg, 0, len);
    return pg;
  }

  @Test
  void load_directory_inSortedPathOrder_equalPagesGiveEqualFingerprints() throws IOException {
    byte[] a = randomBytes(2 * 4096 + 100, 1); // 3 pages, last padded
    byte[] c = randomBytes(4096, 2); // 1 page
    Files.write(dir.resolve("b-copy-of-a.bin"), a);
    Files.write(dir.resolve("a.bin"), a);
    Files.createDirectories(dir.resolve("sub"));
    Files.write(dir.resolve("sub/c.bin"), c);
    Files.write(dir.resolve("empty.bin"), new byte[0]);
    Files.write(dir.resolve("zeros.bin"), new byte[4096]);

    GuestImage img = ImageLoader.load(dir, 100);

    // order: a.bin, b-copy-of-a.bin, empty.bin, sub/c.bin, zeros.bin
    assertThat(img.pages()).isEqualTo(3 + 3 + 0 + 1 + 1);
    for (int p = 0; p < 3; p++) {
      assertThat(img.fingerprint(p)).isEqualTo(img.fingerprint(3 + p));
      assertThat(img.fingerprint(p)).isEqualTo(Fingerprint.ofBytes(page(a, p), 0, 4096));
    }
    assertThat(img.fingerprint(0)).isNotEqualTo(img.fingerprint(1));
    assertThat(img.fingerprint(6)).isEqualTo(Fingerprint.ofBytes(c, 0, 4096));
    assertThat(img.fingerprint(7)).isEqualTo(Fingerprint.ZERO);
  }

  @Test
  void load_singleFile_zeroPadsTheLastPage() throws IOException {
    byte[] a = new byte[4096 + 10];
    Arrays.fill(a, (byte) 7);
    Path f = dir.resolve("one.img");
    Files.write(f, a);
    GuestImage img = ImageLoader.load(f, 2);
    assertThat(img.pages()).isEqualTo(2);
    byte[] padded = new byte[4096];
    Arrays.fill(padded, 0, 10, (byte) 7);
    assertThat(img.fingerprint(1)).isEqualTo(Fingerprint.ofBytes(padded, 0, 4096));
    assertThat(img.fingerprint(1)).isNotEqualTo(img.fingerprint(0));
  }

  @Test
  void load_oversizedImage_failsNamingPathPageCountAndLimit() throws IOException {
    Path f = dir.resolve("big.img");
    Files.write(f, new byte[5 * 4096 + 1]);
    assertThatThrownBy(() -> ImageLoader.load(f, 5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(f.toString())
        .hasMessageContaining("6 pages")
        .hasMessageContaining("limit of 5 pages");
    assertThat(ImageLoader.load(f, 6).pages()).isEqualTo(6);
  }

  @Test
  void load_missingOrEmptyPath_failsClearly() throws IOException {
    Path missing = dir.resolve("nope");
    assertThatThrownBy(() -> ImageLoader.load(missing, 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(missing.toString())
        .hasMessageContaining("does not exist");
    Path empty = Files.createDirectories(dir.resolve("empty"));
    assertThatThrownBy(() -> ImageLoader.load(empty, 10))
        .hasMessageContaining(empty.toString())
        .hasMessageContaining("no data");
    assertThatThrownBy(() -> ImageLoader.load(dir, 0)).hasMessageContaining("maxPages");
  }
}
