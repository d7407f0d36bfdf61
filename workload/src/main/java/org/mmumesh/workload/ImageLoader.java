package org.mmumesh.workload;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import org.mmumesh.common.Checks;
import org.mmumesh.common.Fingerprint;

/**
 * Loads a real guest image from disk into a {@link GuestImage} (architecture section 1: "a page
 * loaded from a real image gets the hash of its bytes, so equal bytes give equal fingerprints").
 *
 * <p>The path is either a regular file, or a directory whose regular files (found recursively) are
 * taken in sorted order of their path relative to the directory (compared as {@link Path}s). Each
 * file is read in 4096-byte pages; its last partial page is padded with zero bytes, so every file
 * starts on a page boundary and equal files give equal page sequences. An empty file contributes no
 * page. Page {@code p} of the image (its gfn) is the {@code p}-th page in that order; each page's
 * fingerprint is {@link Fingerprint#ofBytes}.
 *
 * <p><b>Links.</b> Inside a directory, symbolic links are never followed: a link to a file, to a
 * directory, a dangling link and a link into {@code /proc} are all skipped (not loaded, not an
 * error), as are FIFOs, devices and sockets, so the image never leaves the directory and never
 * reads a file that changes under it. Only the path given itself may be a link.
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
    List<ImageFile> files = listFiles(fileOrDirectory);
    long pages = 0;
    for (ImageFile f : files) {
      pages += (f.bytes() + Fingerprint.PAGE_BYTES - 1) / Fingerprint.PAGE_BYTES;
    }
    if (pages > maxPages) {
      throw tooLarge(fileOrDirectory, pages, maxPages);
    }
    // Read every file to its end, not to its listed size: files of /proc and /sys report size 0
    // and hold data; a file that grows or shrinks meanwhile loads what it holds, within maxPages.
    long[] fingerprints = new long[(int) Math.max(16, pages)];
    byte[] buf = new byte[Fingerprint.PAGE_BYTES];
    int p = 0;
    for (ImageFile f : files) {
      try (InputStream in = f.open()) {
        int n;
        while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
          if (p == maxPages) {
            throw tooLarge(fileOrDirectory, -1, maxPages); // read to its end: no total known
          }
          if (p == fingerprints.length) {
            fingerprints =
                Arrays.copyOf(fingerprints, (int) Math.min(maxPages, 2L * fingerprints.length));
          }
          fingerprints[p++] = Fingerprint.ofBytes(buf, 0, n);
        }
      } catch (IOException e) {
        throw unreadable(f.path(), e);
      }
    }
    if (p == 0) {
      throw new IllegalArgumentException(
          "image path: "
              + fileOrDirectory
              + " holds no data (0 pages); allowed 1 to "
              + maxPages
              + " pages");
    }
    if (p != fingerprints.length) {
      fingerprints = Arrays.copyOf(fingerprints, p);
    }
    return GuestImage.wrap(fingerprints);
  }

  /** The error for an image of {@code pages} pages ({@code -1}: more than can be held). */
  private static IllegalArgumentException tooLarge(Path root, long pages, long maxPages) {
    return new IllegalArgumentException(
        "image path: "
            + root
            + (pages >= 0 ? " needs " + pages : " holds more than " + maxPages)
            + " pages of 4096 bytes, more than the limit of "
            + maxPages
            + " pages (the guest memory size)");
  }

  /**
   * One file of the image: its path, its size when listed, and whether it was found inside a
   * directory (then it is opened without following a symbolic link, so a file replaced by a link
   * after the listing fails to open instead of leading out of the directory).
   */
  record ImageFile(Path path, long bytes, boolean inDirectory) {
    InputStream open() throws IOException {
      return inDirectory
          ? Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS)
          : Files.newInputStream(path);
    }
  }

  /**
   * The regular files of the image, in load order. {@code root} itself is followed if it is a
   * symbolic link (the user named it); inside a directory, symbolic links (to files, to
   * directories, dangling, or into {@code /proc}) and special files (FIFOs, devices, sockets) are
   * skipped: attributes are read without following links and directories are walked without
   * following them, so the image never leaves the directory.
   */
  static List<ImageFile> listFiles(Path root) {
    BasicFileAttributes rootAttrs;
    try {
      rootAttrs = Files.readAttributes(root, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(
          "image path: " + root + " does not exist; expected a readable file or directory", e);
    } catch (IOException e) {
      throw unreadable(root, e);
    }
    if (rootAttrs.isRegularFile()) {
      return List.of(new ImageFile(root, rootAttrs.size(), false));
    }
    if (!rootAttrs.isDirectory()) {
      throw new IllegalArgumentException(
          "image path: " + root + " is neither a regular file nor a directory");
    }
    Path walkRoot = root;
    if (Files.isSymbolicLink(root)) {
      try {
        walkRoot = root.toRealPath(); // the walk below would not enter a linked root
      } catch (IOException e) {
        throw unreadable(root, e);
      }
    }
    List<ImageFile> files = new ArrayList<>();
    try {
      Files.walkFileTree(
          walkRoot,
          EnumSet.noneOf(FileVisitOption.class),
          Integer.MAX_VALUE,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
              // Without FOLLOW_LINKS, attrs describe a link itself: isRegularFile() is false.
              if (attrs.isRegularFile()) {
                files.add(new ImageFile(file, attrs.size(), true));
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
              throw unreadable(file, e);
            }
          });
    } catch (IOException e) {
      throw unreadable(walkRoot, e);
    }
    Path base = walkRoot;
    files.sort((a, b) -> base.relativize(a.path()).compareTo(base.relativize(b.path())));
    return files;
  }

  private static IllegalArgumentException unreadable(Path p, IOException e) {
    return new IllegalArgumentException(
        "image path: " + p + " cannot be read: " + IoErrors.describe(e), e);
  }
}
