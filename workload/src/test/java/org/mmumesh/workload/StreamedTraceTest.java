package org.mmumesh.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmumesh.common.Access;

class StreamedTraceTest {
  @TempDir Path dir;

  private static AddressFolding window(long pages) {
    return AddressFolding.forGuest(MmuKind.BOOK3S_64, pages);
  }

  private Path gzip(byte[] data, String name) throws IOException {
    Path p = dir.resolve(name);
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(p))) {
      out.write(data);
    }
    return p;
  }

  private Path zstd(byte[] data, String name) throws IOException {
    Path p = dir.resolve(name);
    try (OutputStream out = new ZstdOutputStream(Files.newOutputStream(p))) {
      out.write(data);
    }
    return p;
  }

  /** The in-memory reading (LackeyTrace.read + fold + FoldedTrace.source): the reference. */
  private static Drained inMemory(Path text, long pages, long seed) {
    return Drained.of(LackeyTrace.read(text).fold(window(pages)).source(seed), 777);
  }

  @Test
  void replay_ofTheRealTrace_equalsTheInMemoryReplay_kindsEasSizesAndStoreValues()
      throws Exception {
    Path fixture = LackeyTraceTest.fixture();
    for (long seed : new long[] {1, 42, -7}) {
      StreamedTrace t = StreamedTrace.scan(fixture, window(4096), false);
      Drained expected = inMemory(fixture, 4096, seed);
      assertThat(t.accesses()).isEqualTo(expected.size);
      assertThat(t.distinctPages())
          .isEqualTo(LackeyTrace.read(fixture).fold(window(4096)).distinctPages());
      // Batch sizes that do not divide the trace, and two sources of one trace, give one stream.
      Drained a = Drained.of(t.source(seed), 1);
      Drained b = Drained.of(t.source(seed), 500);
      assertThat(a.sameAs(expected)).isTrue();
      assertThat(b.sameAs(expected)).isTrue();
      assertThat(a.count(Access.STORE)).isPositive();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"trace.gz", "trace.zst", "trace.txt", "trace"})
  void compressedTraces_areRecognisedByContent_whateverTheirName(String name) throws Exception {
    byte[] text = Files.readAllBytes(LackeyTraceTest.fixture());
    Path gz = gzip(text, "gz-" + name);
    Path zst = zstd(text, "zst-" + name);
    Drained expected = inMemory(LackeyTraceTest.fixture(), 4096, 3);
    for (Path p : new Path[] {gz, zst}) {
      StreamedTrace t = StreamedTrace.scan(p, window(4096), false);
      assertThat(Drained.of(t.source(3), 256).sameAs(expected)).as(p.toString()).isTrue();
      assertThat(LackeyTrace.read(p).size())
          .isEqualTo(LackeyTrace.read(LackeyTraceTest.fixture()).size());
    }
  }

  @Test
  void superblockLines_areSkipped_andMalformedOnesRefused() throws IOException {
    Path p = dir.resolve("sb.txt");
    Files.writeString(p, "SB 04016bd0\nI  04016bd0,3\nSB 0000000004016bd3\n S 1fff000770,8\n");
    StreamedTrace t = StreamedTrace.scan(p, window(16), false);
    Drained d = Drained.of(t.source(1), 64);
    assertThat(d.size).isEqualTo(2);
    assertThat(d.kinds[0]).isEqualTo(Access.IFETCH.ordinal());
    assertThat(d.kinds[1]).isEqualTo(Access.STORE.ordinal());
    for (String bad : new String[] {"SB ", "SB 04016bzz", "SB 12345678901234567", "SB04016bd0"}) {
      assertThatThrownBy(() -> LackeyTrace.parse("I  10,4\n" + bad + "\n", "sb"))
          .as(bad)
          .hasMessageContaining("sb line 2")
          .hasMessageContaining("SB");
    }
  }

  @Test
  void binaryFile_getsOneLineNamingItAndItsFirstBytesInHex_neverTheRawBytes() throws IOException {
    byte[] elf = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0x1b, '[', '2', 'J', 7, 0, 'x', 'y'};
    Path p = dir.resolve("a.out");
    Files.write(p, elf);
    assertThatThrownBy(() -> StreamedTrace.scan(p, window(16), false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lackey trace " + p + ": not a Lackey trace")
        .hasMessageContaining("7f 45 4c 46 02 01 01 00 00 00 1b 5b 32 4a 07 00")
        .satisfies(e -> assertPrintable(e.getMessage()));
    // The same bytes gzip-compressed: recognised as gzip, then refused for what it holds.
    Path gz = gzip(elf, "a.out.txt");
    assertThatThrownBy(() -> StreamedTrace.scan(gz, window(16), false))
        .hasMessageContaining(gz.toString())
        .hasMessageContaining("gzip-compressed")
        .hasMessageContaining("1f 8b")
        .satisfies(e -> assertPrintable(e.getMessage()));
  }

  @Test
  void unrecognisedText_failsOnItsFirstLine_withTheFirstBytesInHex_andControlBytesEscaped()
      throws IOException {
    Path p = dir.resolve("notes.csv");
    Files.writeString(p, "addr;size\n0x10;4\n");
    assertThatThrownBy(() -> StreamedTrace.scan(p, window(16), false))
        .hasMessageContaining(p + " line 1: \"addr;size\"")
        .hasMessageContaining("first bytes are 61 64 64 72");
    // A control byte after the first 4 KiB passes the binary check: the echoed line escapes it.
    String padding = "==1== padding\n".repeat(400);
    Path late = dir.resolve("late.txt");
    Files.write(
        late,
        (padding + "I  10,4\n L 2\u001b[2J\u0007\u0000,4\n").getBytes(StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> StreamedTrace.scan(late, window(16), false))
        .hasMessageContaining("line 402: \" L 2\\x1b[2J\\x07\\x00,4\"")
        .satisfies(e -> assertPrintable(e.getMessage()));
  }

  @Test
  void corruptGzip_failsInWords_namingTheFile() throws Exception {
    byte[] text = Files.readAllBytes(LackeyTraceTest.fixture());
    Path gz = gzip(text, "t.gz");
    byte[] all = Files.readAllBytes(gz);
    Path cut = dir.resolve("cut.gz");
    Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2));
    assertThatThrownBy(() -> StreamedTrace.scan(cut, window(4096), false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "lackey trace " + cut + " cannot be read: gzip data truncated or corrupt: ")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("java.", "Exception"));
  }

  @Test
  void gzipCutInItsHeader_saysGzipDataTruncatedOrCorrupt() throws Exception {
    byte[] all = Files.readAllBytes(gzip(Files.readAllBytes(LackeyTraceTest.fixture()), "h.gz"));
    Path cut = dir.resolve("head.gz");
    Files.write(cut, java.util.Arrays.copyOf(all, 5)); // the magic, then the header ends
    assertThatThrownBy(() -> StreamedTrace.scan(cut, window(4096), false))
        .hasMessage("lackey trace " + cut + " cannot be read: gzip data truncated or corrupt");
  }

  @Test
  void truncatedZstd_saysZstdDataTruncatedOrCorrupt() throws Exception {
    byte[] text = Files.readAllBytes(LackeyTraceTest.fixture());
    byte[] all = Files.readAllBytes(zstd(text, "t.zst"));
    Path cut = dir.resolve("cut.zst");
    Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2));
    assertThatThrownBy(() -> StreamedTrace.scan(cut, window(4096), false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "lackey trace " + cut + " cannot be read: zstd data truncated or corrupt")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("java.", "Exception"));
  }

  @Test
  void aFifo_isRefusedUpFront_asNotARegularFile_withoutOpeningIt() throws Exception {
    Path fifo = dir.resolve("trace.fifo");
    Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    assertThat(mk.waitFor()).isZero();
    // Opening a FIFO with no writer blocks: the check must come before any open, or this hangs.
    assertThatThrownBy(() -> StreamedTrace.scan(fifo, window(4), false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "lackey trace "
                + fifo
                + ": must be a regular file (it is read more than once): save the trace to a"
                + " file, compressed if you like (.gz, .zst)");
    // a link to it is resolved first and refused the same way
    Path link = Files.createSymbolicLink(dir.resolve("link"), fifo);
    assertThatThrownBy(() -> StreamedTrace.scan(link, window(4), false))
        .hasMessageContaining("must be a regular file");
  }

  @Test
  void tooManyOpenFiles_isTheEnvironments_namingUlimit() {
    RuntimeException e =
        TraceInput.unreadable(
            Path.of("t.zst"),
            new java.nio.file.FileSystemException("t.zst", null, "Too many open files"));
    assertThat(e).isInstanceOf(java.io.UncheckedIOException.class);
    assertThat(e.getMessage())
        .startsWith("lackey trace t.zst cannot be read: too many open files")
        .contains("ulimit -n")
        .contains("fewer vCPUs");
    assertThat(TraceInput.unreadable(Path.of("t"), new java.nio.file.AccessDeniedException("t")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("lackey trace t cannot be read: permission denied");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "\n\n", "==1== Lackey\n==1== done\n", "SB 10\n--1-- x\n"})
  void emptyTrace_isAnError_noAccesses_unlessAllowed(String text) throws IOException {
    Path p = dir.resolve("empty.txt");
    Files.writeString(p, text);
    assertThatThrownBy(() -> StreamedTrace.scan(p, window(16), false))
        .hasMessageContaining("lackey trace " + p + ": no accesses")
        .hasMessageContaining("allow-empty=true");
    StreamedTrace t = StreamedTrace.scan(p, window(16), true);
    assertThat(t.accesses()).isZero();
    assertThat(Drained.of(t.source(1), 8).size).isZero();
  }

  @Test
  void pagePastTheWindow_failsAtTheScan_namingLineAndPages() throws IOException {
    Path p = dir.resolve("wide.txt");
    Files.writeString(p, "I  1000,4\n L 2000,4\n S 3000,4\n");
    assertThatThrownBy(() -> StreamedTrace.scan(p, window(2), false))
        .hasMessageContaining(p + " line 3")
        .hasMessageContaining("allowed at most 2 distinct pages")
        .hasMessageContaining("raise pages");
  }

  @Test
  void sourcesOpenTheFileOnFirstFill_andAReplayOfAChangedFileFailsNamingIt() throws IOException {
    Path p = dir.resolve("t.txt");
    Files.writeString(p, "I  1000,4\n L 2000,4\n");
    StreamedTrace t = StreamedTrace.scan(p, window(4), false);
    AccessSource made = t.source(1);
    assertThat(made.expectedAccesses()).isEqualTo(2);
    Files.writeString(p, "I  1000,4\n L 5000,4\n"); // a page the scan never saw
    assertThatThrownBy(() -> Drained.of(made, 8))
        .hasMessageContaining("lackey trace " + p + " changed since it was read");
    Files.writeString(p, "I  1000,4\n L 2000,4\n L 2000,4\n"); // more accesses
    assertThatThrownBy(() -> Drained.of(t.source(1), 8)).hasMessageContaining("changed");
    Files.delete(p);
    assertThatThrownBy(() -> Drained.of(t.source(1), 8))
        .hasMessage("lackey trace " + p + " cannot be read: no such file");
  }

  @Test
  void workloadParser_lackey_streams_andTakesAllowEmpty() throws IOException {
    Path p = dir.resolve("only-messages.txt");
    Files.writeString(p, "==5== Lackey\n");
    assertThatThrownBy(() -> WorkloadParser.parse("lackey:path=" + p))
        .hasMessageContaining("no accesses");
    WorkloadSpec s = WorkloadParser.parse("lackey:path=" + p + ",allow-empty=true");
    assertThat(s.name()).endsWith(",allow-empty=true");
    assertThat(WorkloadParser.parse(s.name()).name()).isEqualTo(s.name());
    assertThat(s.sourceFor(0, 0).expectedAccesses()).isZero();
    assertThatThrownBy(() -> WorkloadParser.parse("lackey:path=" + p + ",allow-empty=yes"))
        .hasMessageContaining("allow-empty: 'yes' is invalid; allowed true or false");
    assertThat(WorkloadParser.help()).contains("allow-empty").contains("zstd").contains("SB");
    assertThatThrownBy(() -> WorkloadParser.parse("lackey:vms=1"))
        .hasMessage("path: missing; workload 'lackey' requires path=<trace file>");
  }

  @Test
  void missingTrace_saysNoSuchFile_withoutJavaExceptionNames() {
    Path p = dir.resolve("none.txt");
    assertThatThrownBy(() -> StreamedTrace.scan(p, window(4), false))
        .hasMessage("lackey trace " + p + " cannot be read: no such file");
    assertThatThrownBy(() -> StreamedTrace.scan(dir, window(4), false))
        .hasMessage("lackey trace " + dir + " cannot be read: is a directory");
  }

  private static void assertPrintable(String message) {
    assertThat(message.lines().count()).isEqualTo(1);
    for (char c : message.toCharArray()) {
      assertThat(c < 0x20 || c == 0x7f).as("control char %s in %s", (int) c, message).isFalse();
    }
  }
}
