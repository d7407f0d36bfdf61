package org.mmumesh.workload;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Words for I/O failures, for messages a user reads: "no such file", "permission denied", "is a
 * directory", never a Java exception class name. The path is the caller's to name.
 */
public final class IoErrors {
  private IoErrors() {}

  /**
   * What went wrong, in lower case and without the path: the operating system's reason where the
   * JDK kept one (e.g. "is a directory", "too many levels of symbolic links"), else the message.
   */
  public static String describe(Throwable e) {
    Throwable t = e instanceof UncheckedIOException u && u.getCause() != null ? u.getCause() : e;
    if (t instanceof NoSuchFileException) {
      return "no such file";
    }
    if (t instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (t instanceof NotDirectoryException) {
      return "not a directory";
    }
    if (t instanceof DirectoryNotEmptyException) {
      return "directory not empty";
    }
    if (t instanceof FileSystemLoopException) {
      return "a file system loop (a directory contains itself)";
    }
    if (t instanceof FileSystemException fs && fs.getReason() != null) {
      return lower(fs.getReason());
    }
    String m = t.getMessage();
    if (m == null || m.isBlank()) {
      return t instanceof IOException ? "input/output error" : "unexpected failure";
    }
    return lower(m);
  }

  /**
   * Why {@code file} cannot be read as a regular file, in words ("no such file", "a dangling
   * symbolic link", "is a directory", "not a regular file (a FIFO, device or socket)", "permission
   * denied"), or null if it can. Symbolic links are followed (the user named the path); a FIFO is
   * never opened (opening one without a writer would wait forever).
   */
  public static String whyNotAReadableFile(Path file) {
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      return "no such file";
    }
    if (!Files.exists(file)) {
      return "a dangling symbolic link (its target does not exist)";
    }
    if (Files.isDirectory(file)) {
      return "is a directory";
    }
    if (!Files.isRegularFile(file)) {
      return "not a regular file (a FIFO, device or socket)";
    }
    try (InputStream in = Files.newInputStream(file)) {
      return null;
    } catch (IOException e) {
      return describe(e);
    }
  }

  private static String lower(String reason) {
    String r = reason.strip();
    // "Is a directory" -> "is a directory"; keep acronyms such as "I/O" as they are.
    if (r.length() > 1
        && Character.isUpperCase(r.charAt(0))
        && Character.isLowerCase(r.charAt(1))) {
      return r.substring(0, 1).toLowerCase(Locale.ROOT) + r.substring(1);
    }
    return r;
  }
}
