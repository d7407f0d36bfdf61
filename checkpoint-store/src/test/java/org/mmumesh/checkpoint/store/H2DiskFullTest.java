package org.mmumesh.checkpoint.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk under the embedded H2 store, caused for real without mount rights: a child JVM runs
 * under {@code ulimit -f} (16 MiB per file; the JVM ignores SIGXFSZ, so the write fails with EFBIG
 * as on a full file system) and writes a small checkpoint, then one that cannot fit. The child
 * reports what it saw; then this JVM opens the same folder, as the next start would, and checks
 * that the first checkpoint is intact and listed alone, and that the failed one left nothing.
 */
class H2DiskFullTest {
  static final int LIMIT_KIB = 16 << 10;

  @TempDir Path folder;

  @Test
  void diskFullDuringACheckpoint_failsItCleanly_thePreviousStaysIntact() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path out = folder.resolve("child.out");
    Process p =
        new ProcessBuilder(
                List.of(
                    "/bin/bash",
                    "-c",
                    "ulimit -f " + LIMIT_KIB + " && exec \"$@\"",
                    "child",
                    java,
                    "-Xmx256m",
                    "-cp",
                    System.getProperty("java.class.path"),
                    Child.class.getName(),
                    folder.resolve("store").toString()))
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("the child finished").isTrue();
    String said = Files.readString(out, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(said).isZero();
    assertThat(said)
        .contains("committed before")
        .contains("refused: checkpoint 'too-big'")
        .contains("abandoned");

    try (JdbcCheckpointStore store =
        H2CheckpointStore.open(folder.resolve("store"), H2CheckpointStore.defaultOptions())) {
      assertThat(store.list()).extracting(CheckpointSummary::name).containsExactly("before");
      try (CheckpointReader r = store.open("before")) {
        assertThat(r.readPart("vcpu", "vm-0/vcpu-0")).isEqualTo(Child.before());
      }
      try (Connection c = store.connection();
          PreparedStatement ps =
              c.prepareStatement(
                  "SELECT (SELECT COUNT(*) FROM mmumesh_checkpoint_pending),"
                      + " (SELECT COUNT(DISTINCT checkpoint_id) FROM mmumesh_checkpoint_chunk)");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        assertThat(rs.getInt(1)).as("pending checkpoints").isZero();
        assertThat(rs.getInt(2)).as("checkpoints with chunks").isEqualTo(1);
      }
    }
  }

  /** The child JVM: one checkpoint that fits, one that does not; says what happened. */
  public static final class Child {
    static byte[] before() {
      return CheckpointStoreContract.pages(new Random(21), 1 << 20, 0.5);
    }

    public static void main(String[] args) throws Exception {
      try (CheckpointStore store = H2CheckpointStore.open(Path.of(args[0]))) {
        try (CheckpointWriter w = store.begin("before", CheckpointStoreContract.HEADER)) {
          w.putPart("vcpu", "vm-0/vcpu-0", before());
          w.commit();
        }
        System.out.println("committed before");
        try (CheckpointWriter w = store.begin("too-big", CheckpointStoreContract.HEADER)) {
          for (int i = 0; i < 8; i++) {
            w.putPart(
                "page-frame",
                "host-" + i,
                CheckpointStoreContract.pages(new Random(i), 8 << 20, 0.0));
          }
          w.commit();
          System.out.println("committed too-big: the limit did not bite");
        } catch (CheckpointStoreFailedException e) {
          System.out.println("refused: " + e.getMessage());
        }
      } catch (RuntimeException e) {
        // H2 may close the database after a failed write; closing the pool may then complain
        System.out.println("at close: " + e);
      }
    }
  }
}
