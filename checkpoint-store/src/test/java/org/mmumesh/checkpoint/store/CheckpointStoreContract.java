package org.mmumesh.checkpoint.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.checkpoint.v1.CheckpointHeader;
import org.mmumesh.checkpoint.v1.CheckpointManifest;
import org.mmumesh.checkpoint.v1.ClusterShape;
import org.mmumesh.checkpoint.v1.FormatVersion;
import org.mmumesh.checkpoint.v1.PartEntry;

/**
 * The store's contract, run against each implementation on a real database (H2 in a temp folder, a
 * throwaway PostgreSQL server). Corruption and newer versions are made by editing the tables with
 * SQL, as a bad disk or a newer mmumesh would leave them.
 */
abstract class CheckpointStoreContract {
  static final int CHUNK =
      StoreOptions.MIN_CHUNK_SIZE_BYTES; // 64 KiB: multi-chunk parts stay small
  static final CheckpointHeader HEADER =
      HostFacts.header(
              ClusterShape.newBuilder()
                  .setNodeCount(3)
                  .addNodeAddresses("pekko://mmumesh@127.0.0.1:2551")
                  .build(),
              4242,
              9_000_000_000L)
          .toBuilder()
          .setDescription("contract test")
          .build();

  JdbcCheckpointStore store;

  /** A fresh, empty store (a new folder or a new database). */
  abstract JdbcCheckpointStore openFresh(StoreOptions options) throws Exception;

  /** The same database again, as a new process would open it. */
  abstract JdbcCheckpointStore reopen(StoreOptions options) throws Exception;

  /** The implementation's default options with 64 KiB chunks. */
  abstract StoreOptions options();

  @BeforeEach
  void openStore() throws Exception {
    store = openFresh(options().withChunkSizeBytes(CHUNK));
  }

  @AfterEach
  void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  @Test
  void roundTrip_manyParts_areByteEqual_inOrder_withTheManifestAsWritten() throws Exception {
    Random rnd = new Random(1);
    List<byte[]> written = new ArrayList<>();
    try (CheckpointWriter w = store.begin("many", HEADER)) {
      for (int i = 0; i < 120; i++) {
        byte[] b = pages(rnd, rnd.nextInt(40) * 1024 + rnd.nextInt(3), 0.5);
        written.add(b);
        w.putPart(i % 3 == 0 ? "vcpu" : "page-frame", "vm-" + i + "/e", b);
      }
      w.putPart("empty", "nothing", new byte[0]);
      written.add(new byte[0]);
      w.commit();
    }
    try (CheckpointReader r = store.open("many")) {
      CheckpointManifest m = r.manifest();
      assertThat(m.getCheckpointName()).isEqualTo("many");
      assertThat(m.getFormat().getFormatVersion()).isEqualTo(JdbcCheckpointStore.FORMAT_VERSION);
      assertThat(m.getHeader()).isEqualTo(HEADER);
      assertThat(m.getChunkSizeBytes()).isEqualTo(CHUNK);
      assertThat(m.getPartsCount()).isEqualTo(121);
      for (int i = 0; i < 121; i++) {
        PartEntry p = m.getParts(i);
        assertThat(p.getPartIndex()).isEqualTo(i);
        assertThat(p.getLengthBytes()).isEqualTo(written.get(i).length);
        assertThat(r.readPart(p.getEntityKind(), p.getEntityId())).isEqualTo(written.get(i));
      }
      assertThat(r.part("empty", "nothing").orElseThrow().getChunkCount()).isZero();
      r.verify();
    }
    long total = written.stream().mapToLong(b -> b.length).sum();
    assertThat(store.list())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.name()).isEqualTo("many");
              assertThat(s.partCount()).isEqualTo(121);
              assertThat(s.totalBytes()).isEqualTo(total);
              assertThat(s.formatVersion()).isEqualTo(JdbcCheckpointStore.FORMAT_VERSION);
            });
  }

  @Test
  void largeParts_spanChunks_streamedInAndOut() throws Exception {
    Random rnd = new Random(2);
    byte[] big = pages(rnd, 5 * CHUNK + 123, 0.5); // 6 chunks, the last one short
    byte[] exact = pages(rnd, 3 * CHUNK, 0.0); // exactly 3 chunks, all random
    byte[] zeros = new byte[4 * CHUNK]; // compresses to almost nothing
    try (CheckpointWriter w = store.begin("large", HEADER)) {
      w.putPart("page-frame", "host-0", new ByteArrayInputStream(big));
      w.putPart("page-frame", "host-1", new ByteArrayInputStream(exact));
      w.putPart("page-frame", "host-2", zeros);
      w.commit();
    }
    try (CheckpointReader r = store.open("large")) {
      assertThat(r.part("page-frame", "host-0").orElseThrow().getChunkCount()).isEqualTo(6);
      assertThat(r.part("page-frame", "host-1").orElseThrow().getChunkCount()).isEqualTo(3);
      try (InputStream in = r.openPart(r.part("page-frame", "host-0").orElseThrow())) {
        assertThat(in.readAllBytes()).isEqualTo(big);
      }
      assertThat(r.readPart("page-frame", "host-1")).isEqualTo(exact);
      assertThat(r.readPart("page-frame", "host-2")).isEqualTo(zeros);
    }
    // compression pays for the zero part and is skipped for random contents
    String id = idOf("large");
    assertThat(storedBytes(id, 2)).isLessThan(zeros.length / 100);
    assertThat(storedBytes(id, 1)).isGreaterThanOrEqualTo(exact.length);
  }

  @Test
  void list_showsOnlyCommittedCheckpoints() throws Exception {
    commitSmall("done");
    CheckpointWriter w = store.begin("half", HEADER);
    w.putPart("vcpu", "vm-1/vcpu-0", new byte[] {1, 2, 3});
    assertThat(names()).containsExactly("done");
    assertThatThrownBy(() -> store.open("half"))
        .isInstanceOf(CheckpointNotFoundException.class)
        .hasMessageContaining("'half'");
    w.commit();
    assertThat(names()).containsExactly("done", "half");
  }

  @Test
  void abort_leavesNothing_andTheNameIsFreeAgain() throws Exception {
    commitSmall("keep");
    int chunksBefore = countRows("mmumesh_checkpoint_chunk");
    try (CheckpointWriter w = store.begin("gone", HEADER)) {
      w.putPart("page-frame", "host-0", pages(new Random(3), 3 * CHUNK, 0.2));
      assertThat(countRows("mmumesh_checkpoint_chunk")).isGreaterThan(chunksBefore);
      w.abort();
      assertThatThrownBy(() -> w.putPart("a", "b", new byte[1]))
          .isInstanceOf(IllegalStateException.class);
    }
    assertThat(names()).containsExactly("keep");
    assertThat(countRows("mmumesh_checkpoint_chunk")).isEqualTo(chunksBefore);
    assertThat(countRows("mmumesh_checkpoint_pending")).isZero();
    commitSmall("gone");
    assertThat(names()).containsExactly("gone", "keep");
  }

  @Test
  void writerThatVanished_isCollectedAtTheNextOpen() throws Exception {
    commitSmall("keep");
    int chunksBefore = countRows("mmumesh_checkpoint_chunk");
    CheckpointWriter w = store.begin("crashed", HEADER);
    w.putPart("page-frame", "host-0", pages(new Random(4), 2 * CHUNK, 0.0));
    store.close(); // the process dies: no commit, no abort
    store = reopen(options().withChunkSizeBytes(CHUNK).withPendingGrace(Duration.ZERO));
    assertThat(names()).containsExactly("keep");
    assertThat(countRows("mmumesh_checkpoint_chunk")).isEqualTo(chunksBefore);
    assertThat(countRows("mmumesh_checkpoint_pending")).isZero();
    try (CheckpointReader r = store.open("keep")) {
      r.verify();
    }
  }

  @Test
  void delete_removesTheCheckpointAndItsChunks_andAMissingNameIsNotFound() throws Exception {
    commitSmall("a");
    commitSmall("b");
    int chunksOfOne = countRows("mmumesh_checkpoint_chunk") / 2;
    store.delete("a");
    assertThat(names()).containsExactly("b");
    assertThat(countRows("mmumesh_checkpoint_chunk")).isEqualTo(chunksOfOne);
    assertThatThrownBy(() -> store.open("a")).isInstanceOf(CheckpointNotFoundException.class);
    assertThatThrownBy(() -> store.delete("a"))
        .isInstanceOf(CheckpointNotFoundException.class)
        .hasMessageContaining("'a'");
  }

  @Test
  void existingName_isRefused_unlessReplaceIsAsked() throws Exception {
    commitSmall("name");
    assertThatThrownBy(() -> store.begin("name", HEADER))
        .isInstanceOf(CheckpointExistsException.class)
        .hasMessageContaining("'name'")
        .hasMessageContaining("REPLACE");
    int chunksOfOld = countRows("mmumesh_checkpoint_chunk");
    try (CheckpointWriter w = store.begin("name", HEADER, CheckpointStore.IfExists.REPLACE)) {
      w.putPart("vcpu", "new", new byte[] {9, 9});
      try (CheckpointReader old = store.open("name")) {
        assertThat(old.part("vcpu", "new")).isEmpty(); // the old one until the commit
      }
      w.commit();
    }
    try (CheckpointReader r = store.open("name")) {
      assertThat(r.parts()).hasSize(1);
      assertThat(r.readPart("vcpu", "new")).containsExactly(9, 9);
    }
    assertThat(countRows("mmumesh_checkpoint_chunk")).isEqualTo(1).isLessThan(chunksOfOld + 1);
  }

  @Test
  void twoWritersOfOneName_theSecondIsRefused() throws Exception {
    try (CheckpointWriter first = store.begin("busy", HEADER)) {
      assertThatThrownBy(() -> store.begin("busy", HEADER, CheckpointStore.IfExists.REPLACE))
          .isInstanceOf(CheckpointExistsException.class)
          .hasMessageContaining("another writer");
      first.commit();
    }
    assertThat(names()).containsExactly("busy");
  }

  @Test
  void corruptedChunk_failsItsChecksum_namingThePartAndChunk_otherPartsStillRead()
      throws Exception {
    Random rnd = new Random(5);
    byte[] good = pages(rnd, 2 * CHUNK, 0.0);
    byte[] victim = pages(rnd, 3 * CHUNK, 0.0);
    try (CheckpointWriter w = store.begin("bad", HEADER)) {
      w.putPart("vcpu", "vm-1/vcpu-0", good);
      w.putPart("page-frame", "host-7", victim);
      w.commit();
    }
    flipLastByte(idOf("bad"), 1, 2);
    try (CheckpointReader r = store.open("bad")) {
      assertThat(r.readPart("vcpu", "vm-1/vcpu-0")).isEqualTo(good);
      assertThatThrownBy(() -> r.readPart("page-frame", "host-7"))
          .isInstanceOf(CheckpointCorruptException.class)
          .hasMessageContaining("'bad'")
          .hasMessageContaining("page-frame host-7")
          .hasMessageContaining("chunk 2 of 3")
          .hasMessageContaining("CRC32C");
      assertThatThrownBy(r::verify).isInstanceOf(CheckpointCorruptException.class);
    }
  }

  @Test
  void missingChunk_isCorruption_notAShortPart() throws Exception {
    try (CheckpointWriter w = store.begin("holey", HEADER)) {
      w.putPart("page-frame", "host-0", pages(new Random(6), 3 * CHUNK, 0.0));
      w.commit();
    }
    try (Connection c = store.connection();
        PreparedStatement ps =
            c.prepareStatement(
                "DELETE FROM mmumesh_checkpoint_chunk WHERE checkpoint_id = ? AND chunk_index = 1")) {
      ps.setString(1, idOf("holey"));
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    try (CheckpointReader r = store.open("holey")) {
      assertThatThrownBy(() -> r.readPart("page-frame", "host-0"))
          .isInstanceOf(CheckpointCorruptException.class)
          .hasMessageContaining("chunk 1 of 3: missing");
    }
  }

  @Test
  void newerFormatVersion_isRefused_namingBothVersions() throws Exception {
    commitSmall("future");
    rewriteManifest(
        "future",
        m -> m.toBuilder().setFormat(FormatVersion.newBuilder().setFormatVersion(2)).build());
    assertThatThrownBy(() -> store.open("future"))
        .isInstanceOf(CheckpointIncompatibleException.class)
        .hasMessageContaining("'future'")
        .hasMessageContaining("format_version 2")
        .hasMessageContaining("this build's 1");
  }

  @Test
  void anotherWordSize_isRefused() throws Exception {
    int other = HostFacts.wordSizeBits() == 64 ? 32 : 64;
    try (CheckpointWriter w =
        store.begin("ppc32", HEADER.toBuilder().setWordSizeBits(other).build())) {
      w.putPart("vcpu", "vm-0/vcpu-0", new byte[] {1});
      w.commit();
    }
    assertThatThrownBy(() -> store.open("ppc32"))
        .isInstanceOf(CheckpointIncompatibleException.class)
        .hasMessageContaining("'ppc32'")
        .hasMessageContaining("word size " + other)
        .hasMessageContaining("word_size_bits");
  }

  @Test
  void unparsableManifest_isCorruption() throws Exception {
    commitSmall("garbled");
    try (Connection c = store.connection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE mmumesh_checkpoint_manifest SET manifest = ? WHERE checkpoint_name = ?")) {
      ps.setBytes(1, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});
      ps.setString(2, "garbled");
      ps.executeUpdate();
    }
    assertThatThrownBy(() -> store.open("garbled"))
        .isInstanceOf(CheckpointCorruptException.class)
        .hasMessageContaining("manifest does not parse");
  }

  @Test
  void badNamesHeadersAndKeys_areRefusedWithTheRule_andChangeNothing() throws Exception {
    assertThatThrownBy(() -> store.begin("", HEADER))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must not be empty");
    assertThatThrownBy(() -> store.begin("a/b", HEADER))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("allowed characters");
    assertThatThrownBy(() -> store.begin("x".repeat(129), HEADER))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("129 characters; allowed 1-128");
    assertThatThrownBy(() -> store.begin("ok", HEADER.toBuilder().setWordSizeBits(48).build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("header.word_size_bits: 48; allowed 32 or 64");
    assertThatThrownBy(() -> store.begin("ok", HEADER.toBuilder().clearHostByteOrder().build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("header.host_byte_order");
    assertThat(countRows("mmumesh_checkpoint_pending")).isZero();
    try (CheckpointWriter w = store.begin("ok", HEADER)) {
      w.putPart("vcpu", "v", new byte[] {1});
      assertThatThrownBy(() -> w.putPart("vcpu", "v", new byte[] {2}))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("already written");
      assertThatThrownBy(() -> w.putPart("", "v", new byte[] {2}))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("entity kind: must not be empty");
      w.commit(); // the writer stays usable after a refused part
    }
    try (CheckpointReader r = store.open("ok")) {
      assertThat(r.readPart("vcpu", "v")).containsExactly(1);
      assertThatThrownBy(() -> r.readPart("vcpu", "nope"))
          .isInstanceOf(CheckpointNotFoundException.class)
          .hasMessageContaining("(vcpu, nope)");
    }
  }

  // ---- helpers

  /** {@code length} bytes of 4 KiB pages, each all-zero with probability {@code zeroFraction}. */
  static byte[] pages(Random rnd, int length, double zeroFraction) {
    byte[] b = new byte[length];
    byte[] page = new byte[4096];
    for (int off = 0; off < length; off += 4096) {
      int n = Math.min(4096, length - off);
      if (rnd.nextDouble() >= zeroFraction) {
        rnd.nextBytes(page);
        System.arraycopy(page, 0, b, off, n);
      }
    }
    return b;
  }

  void commitSmall(String name) throws CheckpointException {
    try (CheckpointWriter w = store.begin(name, HEADER)) {
      w.putPart("vcpu", "vm-0/vcpu-0", pages(new Random(name.hashCode()), 2 * CHUNK, 0.0));
      w.commit();
    }
  }

  List<String> names() throws CheckpointException {
    return store.list().stream().map(CheckpointSummary::name).toList();
  }

  int countRows(String table) throws SQLException {
    try (Connection c = store.connection();
        PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + table);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getInt(1);
    }
  }

  String idOf(String name) throws SQLException {
    try (Connection c = store.connection()) {
      return JdbcCheckpointStore.manifestId(c, name);
    }
  }

  long storedBytes(String id, int partIndex) throws SQLException {
    long sum = 0;
    try (Connection c = store.connection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT frame FROM mmumesh_checkpoint_chunk WHERE checkpoint_id = ?"
                    + " AND part_index = ?")) {
      ps.setString(1, id);
      ps.setInt(2, partIndex);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          sum += rs.getBytes(1).length;
        }
      }
    }
    return sum;
  }

  /** Flips the last byte of a stored chunk (inside its data), as a bad disk would. */
  void flipLastByte(String id, int partIndex, int chunkIndex) throws SQLException {
    byte[] frame = store.readChunk(id, partIndex, chunkIndex);
    frame[frame.length - 1] ^= 0x40;
    try (Connection c = store.connection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE mmumesh_checkpoint_chunk SET frame = ? WHERE checkpoint_id = ?"
                    + " AND part_index = ? AND chunk_index = ?")) {
      ps.setBytes(1, frame);
      ps.setString(2, id);
      ps.setInt(3, partIndex);
      ps.setInt(4, chunkIndex);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
  }

  /** Rewrites a manifest row's protobuf, as another build of mmumesh might have written it. */
  void rewriteManifest(String name, java.util.function.UnaryOperator<CheckpointManifest> edit)
      throws Exception {
    try (Connection c = store.connection()) {
      byte[] stored;
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT manifest FROM mmumesh_checkpoint_manifest WHERE checkpoint_name = ?")) {
        ps.setString(1, name);
        try (ResultSet rs = ps.executeQuery()) {
          assertThat(rs.next()).isTrue();
          stored = rs.getBytes(1);
        }
      }
      byte[] edited = edit.apply(CheckpointManifest.parseFrom(stored)).toByteArray();
      try (PreparedStatement ps =
          c.prepareStatement(
              "UPDATE mmumesh_checkpoint_manifest SET manifest = ? WHERE checkpoint_name = ?")) {
        ps.setBytes(1, edited);
        ps.setString(2, name);
        assertThat(ps.executeUpdate()).isEqualTo(1);
      }
    }
  }
}
