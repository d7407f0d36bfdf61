package org.mmumesh.workload;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.mmumesh.common.Checks;
import org.mmumesh.common.Fingerprint;

/**
 * Loads a real guest image from disk into a {@link GuestImage} (architecture section 1: "a page
 * loaded from a real image gets the hash of its bytes, so equal bytes give equal fingerprints").
 *
 * <p>The path is either a regular file, or a directory whose regular files (found recursively,
 * symbolic links not followed) are taken in sorted order of their path relative to the directory
 * (compared as {@link Path}s). Each file is read in 4096-byte pages; its last partial page is
 * padded with zero bytes, so every file starts on a page boundary and equal files give equal page
 * sequences. An empty file contributes no page. Page {@code p} of the image (its gfn) is the {@code
 * p}-th page in that order; each page's fingerprint is {@link Fingerprint#ofBytes}.
 *
 * <p>The page count is computed from the file sizes before anything is read, so an oversized image
 * fails fast. All failures are {@link IllegalArgumentException}s naming the path.
 */
public final class ImageLoader {
  private ImageLoader() {}

  /**
   * Loads {@code fileOrDirectory}.
   *
   * @param maxPages the largest image accepted (1 to {@link GuestImage#MAX_PAGES}), e.g. the
   *     guest's memory size in pages
   * @throws IllegalArgumentException if the path does not exist or cannot be read, is neither a
   *     regular file nor a directory, holds no data, or needs more than {@code maxPages} pages
   */
  public static GuestImage load(Path fileOrDirectory, long maxPages) {
    Checks.inRange("maxPages", maxPages, 1, GuestImage.MAX_PAGES);
    List<Path> files = listFiles(fileOrDirectory);
    long pages = 0;
    for (Path f : files) {
      long bytes;
      try {
        bytes = Files.size(f);
      } catch (IOException e) {
        throw unreadable(f, e);
      }
      pages += (bytes + Fingerprint.PAGE_BYTES - 1) / Fingerprint.PAGE_BYTES;
    }
    if (pages == 0) {
      throw new IllegalArgumentException(
          "image path: "
              + fileOrDirectory
              + " holds no data (0 pages); allowed 1 to "
              + maxPages
              + " pages");
    }
    if (pages > maxPages) {
      throw new IllegalArgumentException(
          "image path: "
              + fileOrDirectory
              + " needs "
              + pages
              + " pages of 4096 bytes, more than the limit of "
              + maxPages
              + " pages (the guest memory size)");
    }
    long[] fingerprints = new long[(int) pages];
    byte[] buf = new byte[Fingerprint.PAGE_BYTES];
    int p = 0;
    for (Path f : files) {
      try (InputStream in = Files.newInputStream(f)) {
        int n;
        while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
          if (p == fingerprints.length) {
            throw new IllegalArgumentException(
                "image path: "
                    + f
                    + " grew while being read; its size changed after it was listed");
          }
          fingerprints[p++] = Fingerprint.ofBytes(buf, 0, n);
        }
      } catch (IOException e) {
        throw unreadable(f, e);
      }
    }
    if (p != fingerprints.length) {
      throw new IllegalArgumentException(
          "image path: "
              + fileOrDirectory
              + " shrank while being read; expected "
              + fingerprints.length
              + " pages, read "
              + p);
    }
    return GuestImage.wrap(fingerprints);
  }

  /** The regular files of the image, in load order. */
  static List<Path> listFiles(Path root) {
    if (!Files.exists(root)) {
      throw new IllegalArgumentException(
          "image path: " + root + " does not exist; expected a readable file or directory");
    }
    if (Files.isRegularFile(root)) {
      if (!Files.isReadable(root)) {
        throw new IllegalArgumentException("image path: " + root + " is not readable");
      }
      return List.of(root);
    }
    if (!Files.isDirectory(root)) {
      throw new IllegalArgumentException(
          "image path: " + root + " is neither a regular file nor a directory");
    }
    List<Path> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(root)) {
      walk.filter(Files::isRegularFile).forEach(files::add);
    } catch (IOException | RuntimeException e) {
      throw unreadable(root, e);
    }
    files.sort((a, b) -> root.relativize(a).compareTo(root.relativize(b)));
    return files;
  }

  private static IllegalArgumentException unreadable(Path p, Exception e) {
    return new IllegalArgumentException("image path: " + p + " cannot be read: " + e, e);
  }
}
