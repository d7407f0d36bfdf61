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

  @Test
  void load_directoryWithSymbolicLinks_skipsEveryLink_andLoadsOnlyItsOwnRegularFiles()
      throws IOException {
    Path img = Files.createDirectories(dir.resolve("img"));
    byte[] a = randomBytes(4096 + 7, 3); // 2 pages
    Files.write(img.resolve("a.bin"), a);
    Path outside = Files.createDirectories(dir.resolve("outside"));
    Files.write(outside.resolve("big.bin"), randomBytes(10 * 4096, 4));
    Files.createSymbolicLink(img.resolve("b-link-to-file"), img.resolve("a.bin"));
    Files.createSymbolicLink(img.resolve("c-link-outside-file"), outside.resolve("big.bin"));
    Files.createSymbolicLink(img.resolve("d-link-to-dir"), outside);
    Files.createSymbolicLink(img.resolve("e-dangling"), dir.resolve("no-such-target"));
    Files.createSymbolicLink(img.resolve("f-proc-status"), Path.of("/proc/self/status"));
    Files.createSymbolicLink(img.resolve("g-proc-dir"), Path.of("/proc/self"));
    Files.createSymbolicLink(img.resolve("h-loop"), img.resolve("h-loop"));
    Files.createSymbolicLink(img.resolve("i-self-dir"), img);

    GuestImage loaded = ImageLoader.load(img, 100);

    // Only a.bin: no link is loaded, none fails the load, nothing outside img is read.
    assertThat(ImageLoader.listFiles(img))
        .extracting(ImageLoader.ImageFile::path)
        .containsExactly(img.resolve("a.bin"));
    assertThat(loaded.pages()).isEqualTo(2);
    assertThat(loaded.fingerprint(0)).isEqualTo(Fingerprint.ofBytes(page(a, 0), 0, 4096));
    assertThat(loaded.fingerprint(1)).isEqualTo(Fingerprint.ofBytes(page(a, 1), 0, 4096));
  }

  @Test
  void load_directoryOfOnlyLinks_holdsNoData() throws IOException {
    Path img = Files.createDirectories(dir.resolve("links"));
    Path target = dir.resolve("t.bin");
    Files.write(target, randomBytes(4096, 5));
    Files.createSymbolicLink(img.resolve("t"), target);
    Files.createSymbolicLink(img.resolve("status"), Path.of("/proc/self/status"));
    assertThatThrownBy(() -> ImageLoader.load(img, 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(img.toString())
        .hasMessageContaining("no data");
  }

  @Test
  void load_pathThatIsItselfALink_isFollowed_butLinksBelowItAreNot() throws IOException {
    Path real = Files.createDirectories(dir.resolve("real"));
    byte[] a = randomBytes(4096, 6);
    Files.write(real.resolve("a.bin"), a);
    Path outside = dir.resolve("outside.bin");
    Files.write(outside, randomBytes(3 * 4096, 7));
    Files.createSymbolicLink(real.resolve("z-out"), outside);
    Path named = Files.createSymbolicLink(dir.resolve("named"), real);

    GuestImage img = ImageLoader.load(named, 10);

    assertThat(img.pages()).isEqualTo(1);
    assertThat(img.fingerprint(0)).isEqualTo(Fingerprint.ofBytes(a, 0, 4096));
    Path fileLink = Files.createSymbolicLink(dir.resolve("file-link"), real.resolve("a.bin"));
    assertThat(ImageLoader.load(fileLink, 10)).isEqualTo(img);
  }

  @Test
  void load_danglingLinkGivenAsThePath_saysItDoesNotExist() throws IOException {
    Path dangling = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("gone"));
    assertThatThrownBy(() -> ImageLoader.load(dangling, 10))
        .hasMessageContaining(dangling.toString())
        .hasMessageContaining("does not exist");
  }

  @Test
  void load_unreadableSubdirectory_failsInWords_withoutJavaExceptionNames() throws IOException {
    Path img = Files.createDirectories(dir.resolve("locked-img"));
    Files.write(img.resolve("a.bin"), randomBytes(4096, 8));
    Path locked = Files.createDirectories(img.resolve("locked"));
    Files.write(locked.resolve("x.bin"), randomBytes(4096, 9));
    Files.setPosixFilePermissions(locked, java.util.Set.of());
    try {
      if (Files.isReadable(locked)) {
        // Running as root: permissions do not stop reading, so the load succeeds (both files).
        assertThat(ImageLoader.load(img, 10).pages()).isEqualTo(2);
      } else {
        assertThatThrownBy(() -> ImageLoader.load(img, 10))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("image path: " + locked + " cannot be read: permission denied");
      }
    } finally {
      Files.setPosixFilePermissions(
          locked, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    }
  }

  @Test
  void load_aFileThatReportsSizeZeroButHoldsData_isReadToItsEnd() throws IOException {
    Path proc = Path.of("/proc/self/cmdline"); // this JVM's command line: fixed while it runs
    assertThat(Files.size(proc)).isZero();
    byte[] held = Files.readAllBytes(proc);
    int pages = (held.length + Fingerprint.PAGE_BYTES - 1) / Fingerprint.PAGE_BYTES;
    assertThat(pages).isPositive();
    GuestImage img = ImageLoader.load(proc, 1024);
    assertThat(img.pages()).isEqualTo(pages);
    byte[] padded = Arrays.copyOf(held, pages * Fingerprint.PAGE_BYTES);
    for (int p = 0; p < pages; p++) {
      assertThat(img.fingerprint(p))
          .isEqualTo(
              Fingerprint.ofBytes(padded, p * Fingerprint.PAGE_BYTES, Fingerprint.PAGE_BYTES));
    }
  }
}
