package org.mmumesh.workload;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IoErrorsTest {
  @Test
  void describe_namesTheProblemInWords_notTheExceptionClass() {
    assertThat(IoErrors.describe(new NoSuchFileException("/x"))).isEqualTo("no such file");
    assertThat(IoErrors.describe(new AccessDeniedException("/x"))).isEqualTo("permission denied");
    assertThat(IoErrors.describe(new FileSystemException("/x", null, "Is a directory")))
        .isEqualTo("is a directory");
    assertThat(IoErrors.describe(new UncheckedIOException(new NoSuchFileException("/x"))))
        .isEqualTo("no such file");
    assertThat(IoErrors.describe(new IOException("I/O error"))).isEqualTo("I/O error");
    assertThat(IoErrors.describe(new IOException())).isEqualTo("input/output error");
  }

  @Test
  void describe_realFailuresOfThisFileSystem(@TempDir Path dir) {
    IOException missing = null;
    try {
      Files.newInputStream(dir.resolve("none")).close();
    } catch (IOException e) {
      missing = e;
    }
    assertThat(IoErrors.describe(missing)).isEqualTo("no such file").doesNotContain("java.");
    IOException isDir = null;
    try (var in = Files.newInputStream(dir)) {
      in.read();
    } catch (IOException e) {
      isDir = e;
    }
    assertThat(IoErrors.describe(isDir)).isEqualTo("is a directory");
  }

  @Test
  void whyNotAReadableFile_namesTheReason(@TempDir Path dir) throws Exception {
    Path f = Files.writeString(dir.resolve("f"), "x");
    assertThat(IoErrors.whyNotAReadableFile(f)).isNull();
    assertThat(IoErrors.whyNotAReadableFile(dir.resolve("none"))).isEqualTo("no such file");
    assertThat(IoErrors.whyNotAReadableFile(dir)).isEqualTo("is a directory");
    Path dangling = Files.createSymbolicLink(dir.resolve("d"), dir.resolve("gone"));
    assertThat(IoErrors.whyNotAReadableFile(dangling)).startsWith("a dangling symbolic link");
    Path link = Files.createSymbolicLink(dir.resolve("l"), f);
    assertThat(IoErrors.whyNotAReadableFile(link)).isNull();
    Path fifo = dir.resolve("fifo");
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    assertThat(IoErrors.whyNotAReadableFile(fifo)).startsWith("not a regular file");
  }
}
