package org.mmumesh.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.util.Locale;
import org.mmumesh.workload.IoErrors;

/**
 * Failures of the environment rather than of the input: out of memory, a stack overflow, an I/O
 * error such as a full disk. Each is reported in <b>one line</b> naming what ran out, the current
 * limit and how to raise it through {@code MMUMESH_JAVA_OPTS} (which {@code bin/mmumesh} passes to
 * {@code java}), and ends the process with {@link #EXIT_CODE}; a stack trace only with {@code
 * --debug}.
 *
 * <p>Reporting an {@link OutOfMemoryError} must not itself need memory: {@link #install} keeps a
 * reserve buffer, freed first, and the heap line is built and encoded in advance (the heap's
 * maximum does not change while the JVM runs). {@link #install} also sets the default uncaught
 * exception handler, so a fatal failure on any other thread (a worker, a gRPC thread) is reported
 * the same way and halts the process with the same code.
 */
final class FatalErrors {
  /** The exit code of an environment failure (2 is bad input, 1 a bug). */
  static final int EXIT_CODE = 3;

  private static final int RESERVE_BYTES = 2 << 20;
  private static volatile byte[] reserve;
  private static volatile byte[] heapLine;
  private static volatile boolean debug;
  private static final java.util.concurrent.atomic.AtomicBoolean reported =
      new java.util.concurrent.atomic.AtomicBoolean();

  private static final String REMEDY_IO =
      "; check the free disk space and the file's permissions, then run again";

  private FatalErrors() {}

  /** Keeps the reserve, builds the heap line and handles fatal failures of every thread. */
  static synchronized void install() {
    if (heapLine != null) {
      return;
    }
    reserve = new byte[RESERVE_BYTES];
    heapLine =
        (line(new OutOfMemoryError("Java heap space")) + "\n").getBytes(StandardCharsets.UTF_8);
    Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler(
        (thread, e) -> {
          if (isEnvironmentFailure(e)) {
            report(e, System.err);
            Runtime.getRuntime().halt(EXIT_CODE);
          } else if (previous != null) {
            previous.uncaughtException(thread, e);
          } else {
            System.err.print("Exception in thread \"" + thread.getName() + "\" ");
            e.printStackTrace(System.err);
          }
        });
  }

  /** Whether reports print stack traces too ({@code --debug}). */
  static void debug(boolean on) {
    debug = on;
  }

  /** True if {@code e} or one of its causes is an environment failure. */
  static boolean isEnvironmentFailure(Throwable e) {
    return rootFailure(e) != null;
  }

  /**
   * Reports {@code e} (an environment failure, see {@link #isEnvironmentFailure}) on {@code err}:
   * one line, then the stack trace if {@code --debug}.
   *
   * @return {@link #EXIT_CODE}
   */
  static int report(Throwable e, PrintStream err) {
    reserve = null; // frees room for what follows
    if (!reported.compareAndSet(false, true)) {
      return EXIT_CODE; // another thread has said it: one line per process
    }
    Throwable f = rootFailure(e);
    byte[] prebuilt = heapLine;
    if (f instanceof OutOfMemoryError oom && isHeap(oom) && prebuilt != null) {
      err.write(prebuilt, 0, prebuilt.length);
    } else {
      err.println(line(f == null ? e : f));
    }
    if (debug) {
      e.printStackTrace(err);
    }
    err.flush();
    return EXIT_CODE;
  }

  /** The one line for failure {@code f}. */
  static String line(Throwable f) {
    if (f instanceof OutOfMemoryError oom) {
      String what = String.valueOf(oom.getMessage());
      if (what.contains("array size exceeds")) {
        // no heap is large enough: the JVM caps one array at about 2^31 elements
        return "mmumesh: out of memory: the input asks for an array larger than the JVM allows ("
            + what
            + "); a larger -Xmx will not help: use a smaller input or fewer pages";
      }
      if (isHeap(oom)) {
        long max = Runtime.getRuntime().maxMemory();
        return "mmumesh: out of memory: the Java heap is full (-Xmx "
            + human(max)
            + "); raise it through MMUMESH_JAVA_OPTS, e.g. MMUMESH_JAVA_OPTS=-Xmx"
            + suggestion(max)
            + " bin/mmumesh ..., or run a smaller workload";
      }
      if (what.contains("Metaspace")) {
        return "mmumesh: out of memory: Metaspace is full; raise it through MMUMESH_JAVA_OPTS,"
            + " e.g. MMUMESH_JAVA_OPTS=-XX:MaxMetaspaceSize=1g";
      }
      if (what.contains("Direct buffer")) {
        return "mmumesh: out of memory: direct buffer memory is full; raise it through"
            + " MMUMESH_JAVA_OPTS, e.g. MMUMESH_JAVA_OPTS=-XX:MaxDirectMemorySize=1g";
      }
      if (what.contains("native thread")) {
        return "mmumesh: out of memory: the system refused a new thread ("
            + what
            + "); lower --jobs, or raise the process limit (ulimit -u) or free memory";
      }
      return "mmumesh: out of memory ("
          + what
          + "; -Xmx "
          + human(Runtime.getRuntime().maxMemory())
          + "); raise the heap through MMUMESH_JAVA_OPTS, e.g. MMUMESH_JAVA_OPTS=-Xmx"
          + suggestion(Runtime.getRuntime().maxMemory());
    }
    if (f instanceof StackOverflowError) {
      return "mmumesh: out of stack: a thread's stack overflowed (the JVM's default thread stack"
          + " size); raise it through MMUMESH_JAVA_OPTS, e.g. MMUMESH_JAVA_OPTS=-Xss16m";
    }
    if (f instanceof UncheckedIOException u) {
      // a message that names its own remedy (too many open files: `ulimit -n`) keeps it alone
      return "mmumesh: " + u.getMessage() + (u.getMessage().contains("ulimit") ? "" : REMEDY_IO);
    }
    if (f instanceof IOException io) {
      String file =
          io instanceof FileSystemException fs && fs.getFile() != null ? " on " + fs.getFile() : "";
      return "mmumesh: input/output failure" + file + ": " + IoErrors.describe(io) + REMEDY_IO;
    }
    return "mmumesh: " + f;
  }

  /**
   * The error for a failure to write {@code file} (the value of {@code option}): a path that cannot
   * be a file here (no such directory, permission denied, a directory) is the caller's mistake, an
   * {@link IllegalArgumentException}; anything else (a full disk, an I/O error) is the
   * environment's, an {@link UncheckedIOException} that {@link #report} turns into exit code 3.
   */
  static RuntimeException writeFailure(String option, java.nio.file.Path file, IOException e) {
    String msg = option + ": cannot write " + file + ": " + IoErrors.describe(e);
    if (e instanceof java.nio.file.NoSuchFileException
        || e instanceof java.nio.file.AccessDeniedException
        || e instanceof java.nio.file.NotDirectoryException
        || (e instanceof FileSystemException fs
            && fs.getReason() != null
            && fs.getReason().toLowerCase(Locale.ROOT).contains("directory"))) {
      return new IllegalArgumentException(msg, e);
    }
    return new UncheckedIOException(msg, e);
  }

  /** The environment failure in {@code e}'s cause chain, or null. */
  private static Throwable rootFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof VirtualMachineError) {
        return t; // OutOfMemoryError, StackOverflowError, InternalError, UnknownError
      }
      if (t instanceof UncheckedIOException) {
        return t;
      }
      if (t instanceof IOException) {
        return t;
      }
    }
    return null;
  }

  private static boolean isHeap(OutOfMemoryError e) {
    String m = e.getMessage();
    return m == null || m.contains("Java heap space") || m.contains("GC overhead");
  }

  /** {@code bytes} as "256 MiB", "1.5 GiB". */
  static String human(long bytes) {
    if (bytes >= 1L << 30) {
      double g = bytes / (double) (1L << 30);
      return g == Math.rint(g)
          ? String.format(Locale.ROOT, "%d GiB", (long) g)
          : String.format(Locale.ROOT, "%.1f GiB", g);
    }
    return String.format(Locale.ROOT, "%d MiB", Math.max(1, bytes >> 20));
  }

  /** A heap twice {@code max}, in whole GiB (at least 1g), as {@code -Xmx} takes it. */
  static String suggestion(long max) {
    long g = Math.max(1, (2 * max + (1L << 30) - 1) >> 30);
    return g + "g";
  }
}
