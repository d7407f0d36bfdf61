package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mmumesh.common.Fingerprint;
import org.mmumesh.gateway.GatewayMain;
import org.mmumesh.proto.v1.GetVmRequest;
import org.mmumesh.proto.v1.GetVmResponse;
import org.mmumesh.proto.v1.HostMmuKind;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.HostSummary;
import org.mmumesh.proto.v1.ListHostsRequest;
import org.mmumesh.proto.v1.MmuKind;
import org.mmumesh.proto.v1.Policy;
import org.mmumesh.proto.v1.Quirk;
import org.mmumesh.proto.v1.ReadMemoryRequest;
import org.mmumesh.proto.v1.VmRef;
import org.mmumesh.proto.v1.VmServiceGrpc;

/** {@code mmumesh client create} and {@code client load} against a real gateway on a port. */
class ClientCreateLoadTest {
  private static GatewayMain.Running server;
  private static String target;
  private static ManagedChannel channel;

  @TempDir Path dir;

  @BeforeAll
  static void start() {
    server = GatewayMain.start(GatewayMain.Settings.defaults());
    target = "127.0.0.1:" + server.port();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
  }

  @AfterAll
  static void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  private static CliRun client(String... args) {
    List<String> all = new ArrayList<>(List.of("client", "--target", target));
    all.addAll(List.of(args));
    return CliRun.of(all.toArray(String[]::new));
  }

  private static VmServiceGrpc.VmServiceBlockingStub vms() {
    return VmServiceGrpc.newBlockingStub(channel);
  }

  private static List<HostSummary> hosts() {
    return HostServiceGrpc.newBlockingStub(channel)
        .listHosts(ListHostsRequest.getDefaultInstance())
        .getHostsList();
  }

  private static GetVmResponse getVm(int vm) {
    return vms().getVm(GetVmRequest.newBuilder().setVm(VmRef.newBuilder().setVmId(vm)).build());
  }

  private static List<Long> read(int vm, long gfn, int pages) {
    return vms()
        .readMemory(
            ReadMemoryRequest.newBuilder()
                .setVm(VmRef.newBuilder().setVmId(vm))
                .setGuestFrameStart(gfn)
                .setPages(pages)
                .build())
        .getFingerprintsList();
  }

  private static void assertNoVm(int vm) {
    assertThatThrownBy(() -> getVm(vm))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  private Path file(String name, int bytes, long seed) throws IOException {
    byte[] data = new byte[bytes];
    new Random(seed).nextBytes(data);
    return Files.write(dir.resolve(name), data);
  }

  @Test
  void createThenLoad_pagesHoldTheGatewaysFingerprintsOfThePaddedFile_andThePagesBeyondStayZero()
      throws IOException {
    CliRun create =
        client(
            "create",
            "--host-id",
            "3",
            "--host",
            "64",
            "--max-frames",
            "65536",
            "--vm-id",
            "31",
            "--mmu",
            "64",
            "--memory",
            "1M",
            "--vcpus",
            "2",
            "--policy",
            "fixed",
            "--quirk",
            "q1=on,q8=off",
            "--tlb-entries",
            "64",
            "--mergeable");
    assertThat(create.exit()).as(create.err()).isZero();
    GetVmResponse vm = getVm(31);
    assertThat(create.out())
        .contains("created host 3: 64-bit host MMU, 65,536 frames")
        .contains("created vm 31 on host 3: 64-bit MMU, 1 MiB (256 pages), 2 vCPUs")
        .contains(String.format("guest HTAB at 0x%x", vm.getHtabGuestRealAddr()));
    assertThat(vm.getHostId()).isEqualTo(3);
    assertThat(vm.getMmuKind()).isEqualTo(MmuKind.MMU_KIND_BOOK3S_64);
    assertThat(vm.getMemorySizeBytes()).isEqualTo(1 << 20);
    assertThat(vm.getVcpuCount()).isEqualTo(2);
    assertThat(vm.getOptions().getPolicy()).isEqualTo(Policy.POLICY_FIXED);
    assertThat(vm.getOptions().getQuirksList())
        .contains(Quirk.QUIRK_Q1_RC_LOST)
        .doesNotContain(Quirk.QUIRK_Q8_NOTIFIER_FULL_FLUSH)
        .contains(Quirk.QUIRK_Q2_SECONDARY_HIDES_EPERM);
    assertThat(hosts())
        .filteredOn(h -> h.getHostId() == 3)
        .singleElement()
        .satisfies(
            h -> {
              assertThat(h.getHostMmu()).isEqualTo(HostMmuKind.HOST_MMU_KIND_64);
              assertThat(h.getMaxFrames()).isEqualTo(65536);
            });

    int size = 3 * 4096 + 100;
    Path f = file("image.bin", size, 42);
    CliRun load = client("load", "--vm", "31", "--progress", "on", f.toString());
    assertThat(load.exit()).as(load.err()).isZero();
    assertThat(load.out()).contains("loaded 4 pages into vm 31 at guest frames 0..3");
    assertThat(load.err()).contains("100%");
    byte[] padded = Arrays.copyOf(Files.readAllBytes(f), 4 * 4096);
    List<Long> expected = new ArrayList<>();
    for (int p = 0; p < 4; p++) {
      expected.add(Fingerprint.ofBytes(padded, p * 4096, 4096));
    }
    assertThat(expected).doesNotHaveDuplicates().doesNotContain(Fingerprint.ZERO);
    List<Long> got = read(31, 0, 6);
    assertThat(got.subList(0, 4)).containsExactlyElementsOf(expected);
    assertThat(got.subList(4, 6)).containsOnly(Fingerprint.ZERO);

    CliRun again = client("load", "--vm", "31", "--gfn", "10", "--progress", "off", f.toString());
    assertThat(again.exit()).as(again.err()).isZero();
    assertThat(again.err()).isEmpty();
    assertThat(again.out()).contains("guest frames 10..13");
    assertThat(read(31, 8, 7))
        .containsExactly(
            Fingerprint.ZERO,
            Fingerprint.ZERO,
            expected.get(0),
            expected.get(1),
            expected.get(2),
            expected.get(3),
            Fingerprint.ZERO);

    long htab = vm.getHtabGuestRealAddr() >>> 12;
    CliRun overHtab =
        client("load", "--vm", "31", "--gfn", "" + (htab - 2), "--progress", "off", f.toString());
    assertThat(overHtab.exit()).as(overHtab.err()).isZero();
    assertThat(overHtab.err())
        .contains(
            String.format("note: guest frames %d..%d overlap vm 31's guest HTAB", htab, htab + 1));

    CliRun stats = client("stats", "--vm", "31");
    assertThat(stats.exit()).as(stats.err()).isZero();
    assertThat(stats.out()).contains("vm 31  policy POLICY_FIXED");
  }

  @Test
  void load_ofAFileBeyondOneCallsLimits_sendsEveryPageInChunks() throws IOException {
    assertThat(client("create", "--host-id", "5", "--vm-id", "51", "--memory", "64M").exit())
        .isZero();
    int size = 4096 * 4096 + 4096 + 1; // more than one call's 16 MiB: 4,098 pages after padding
    Path f = file("big.bin", size, 7);
    CliRun load = client("load", "--vm", "51", "--gfn", "1", "--progress", "on", f.toString());
    assertThat(load.exit()).as(load.err()).isZero();
    assertThat(load.out()).contains("loaded 4,098 pages into vm 51 at guest frames 1..4098");
    // two calls: a 16 MiB one (4,096 pages, the gateway accepts it), then the last 2 pages
    assertThat(load.err()).contains("75% (4,096/4,098 pages)").contains("100% (4,098/4,098 pages)");
    byte[] padded = Arrays.copyOf(Files.readAllBytes(f), 4098 * 4096);
    List<Long> expected = new ArrayList<>();
    expected.add(Fingerprint.ZERO);
    for (int p = 0; p < 4098; p++) {
      expected.add(Fingerprint.ofBytes(padded, p * 4096, 4096));
    }
    expected.add(Fingerprint.ZERO);
    assertThat(read(51, 0, 4100)).containsExactlyElementsOf(expected);
  }

  @Test
  void badOptions_exitTwoNamingTheOptionAndRange_andCreateNothing() throws IOException {
    CliRun hostOnly = client("create", "--host-id", "4", "--host", "32", "--max-frames", "4096");
    assertThat(hostOnly.exit()).as(hostOnly.err()).isZero();
    assertThat(hostOnly.out()).contains("created host 4: 32-bit host MMU, 4,096 frames");

    record Bad(String expect, String... args) {}
    List<Bad> bad =
        List.of(
            new Bad(
                "--memory: '100000' (100000 bytes) is not allowed; allowed: a multiple of 4096",
                "--host-id",
                "7",
                "--vm-id",
                "71",
                "--memory",
                "100000"),
            new Bad(
                "--mmu: 48 is not allowed; allowed: 32, 64",
                "--host-id",
                "7",
                "--vm-id",
                "71",
                "--mmu",
                "48"),
            new Bad(
                "--policy: 'fast' is not a policy; allowed: legacy, fixed, strict",
                "--host-id",
                "7",
                "--vm-id",
                "71",
                "--policy",
                "fast"),
            new Bad(
                "--quirk: 'q9' is not a quirk",
                "--host-id",
                "7",
                "--vm-id",
                "71",
                "--quirk",
                "q9=on"),
            new Bad(
                "--vcpus: 65 is out of range; allowed 1 to 64",
                "--host-id",
                "7",
                "--vm-id",
                "71",
                "--vcpus",
                "65"),
            new Bad(
                "--tlb-entries: 100 is not allowed; allowed: a power of two from 1 to 65536",
                "--host-id",
                "7",
                "--vm-id",
                "71",
                "--tlb-entries",
                "100"),
            new Bad(
                "--host-id: 1024 is out of range; allowed 0 to 1023",
                "--host-id",
                "1024",
                "--vm-id",
                "71"),
            new Bad(
                "--max-frames: 0 is out of range; allowed 1 to 16777216",
                "--host-id",
                "7",
                "--max-frames",
                "0"),
            new Bad(
                "--memory: 256 pages do not fit the new host's --max-frames 100",
                "--host-id",
                "7",
                "--max-frames",
                "100",
                "--vm-id",
                "71",
                "--memory",
                "1M"),
            new Bad(
                "--mmu: a 64-bit guest cannot run on a 32-bit host",
                "--host-id",
                "7",
                "--host",
                "32",
                "--vm-id",
                "71",
                "--mmu",
                "64"),
            new Bad(
                "--mmu: host 4 has a 32-bit MMU and cannot run a 64-bit guest",
                "--host-id",
                "4",
                "--vm-id",
                "41",
                "--mmu",
                "64"),
            new Bad(
                "--memory: '8G' (8589934592 bytes) is not allowed",
                "--host-id",
                "4",
                "--vm-id",
                "41",
                "--mmu",
                "32",
                "--memory",
                "8G"),
            new Bad("--vm-id: host 4 exists, so there is nothing to create", "--host-id", "4"));
    for (Bad b : bad) {
      List<String> args = new ArrayList<>(List.of("create"));
      args.addAll(List.of(b.args()));
      CliRun r = client(args.toArray(String[]::new));
      assertThat(r.exit()).as(args + ": " + r.err()).isEqualTo(2);
      assertThat(r.err()).as(args.toString()).contains(b.expect()).doesNotContain("Exception");
      assertThat(r.out()).as(args.toString()).doesNotContain("created");
    }
    assertThat(hosts()).extracting(HostSummary::getHostId).doesNotContain(7);
    assertThat(hosts())
        .filteredOn(h -> h.getHostId() == 4)
        .singleElement()
        .satisfies(h -> assertThat(h.getVmsList()).isEmpty());
    assertNoVm(71);
    assertNoVm(41);

    CliRun vm =
        client("create", "--host-id", "4", "--vm-id", "42", "--mmu", "32", "--memory", "256K");
    assertThat(vm.exit()).as(vm.err()).isZero();
    assertThat(vm.out()).doesNotContain("created host").contains("created vm 42 on host 4");
    Path tooBig = file("too-big.bin", 64 * 4096 + 1, 3);
    CliRun load = client("load", "--vm", "42", "--progress", "off", tooBig.toString());
    assertThat(load.exit()).isEqualTo(2);
    assertThat(load.err())
        .contains("FILE: '" + tooBig + "' is 262,145 bytes (65 pages)")
        .contains("allowed: at most 64 pages (262,144 bytes)")
        .doesNotContain("Exception");
    Path fits = file("fits.bin", 8 * 4096, 4);
    CliRun beyond =
        client("load", "--vm", "42", "--gfn", "60", "--progress", "off", fits.toString());
    assertThat(beyond.exit()).isEqualTo(2);
    assertThat(beyond.err()).contains("allowed: at most 4 pages (16,384 bytes)");
    CliRun badGfn = client("load", "--vm", "42", "--gfn", "64", fits.toString());
    assertThat(badGfn.exit()).isEqualTo(2);
    assertThat(badGfn.err()).contains("--gfn: 64 is out of range; vm 42 has 64 pages");
    CliRun missing = client("load", "--vm", "42", dir.resolve("nope.bin").toString());
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err())
        .contains("FILE: '" + dir.resolve("nope.bin") + "' cannot be loaded: no such file");
    assertThat(read(42, 0, 64)).containsOnly(Fingerprint.ZERO);
  }

  @Test
  void aFileThatCannotBeLoaded_saysWhy() throws IOException {
    assertThat(
            client("create", "--host-id", "8", "--vm-id", "81", "--mmu", "32", "--memory", "256K")
                .exit())
        .isZero();
    Path dangling = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("gone"));
    Path fifo = dir.resolve("fifo");
    try {
      assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    Path locked = file("locked.bin", 4096, 9);
    boolean canLock = locked.toFile().setReadable(false, false) && !Files.isReadable(locked);
    String[][] cases = {
      {dir.toString(), "is a directory"},
      {dangling.toString(), "a dangling symbolic link"},
      {fifo.toString(), "not a regular file (a FIFO, device or socket)"},
      {locked.toString(), "permission denied"},
    };
    for (String[] c : cases) {
      if (c[0].equals(locked.toString()) && !canLock) {
        continue; // as root every file is readable
      }
      CliRun r = client("load", "--vm", "81", "--progress", "off", c[0]);
      assertThat(r.exit()).as(r.err()).isEqualTo(2);
      assertThat(r.err())
          .as(c[0])
          .contains("FILE: '" + c[0] + "' cannot be loaded: " + c[1])
          .doesNotContain("Exception");
    }
  }

  @Test
  void aFileThatReportsSizeZeroButHoldsData_isReadToItsEnd() throws IOException {
    assertThat(
            client("create", "--host-id", "9", "--vm-id", "91", "--mmu", "32", "--memory", "256K")
                .exit())
        .isZero();
    // size 0 as listed, its bytes when read; this JVM's command line, so it does not change
    Path proc = Path.of("/proc/self/cmdline");
    assertThat(Files.size(proc)).isZero();
    byte[] held = Files.readAllBytes(proc);
    assertThat(held.length).isBetween(1, 16 * 4096);
    int pages = (held.length + 4095) / 4096;
    CliRun r = client("load", "--vm", "91", "--progress", "off", proc.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out())
        .contains(
            "loaded "
                + pages
                + (pages == 1 ? " page" : " pages")
                + " into vm 91 at guest frames 0.."
                + (pages - 1)
                + " from "
                + proc
                + " ("
                + String.format(java.util.Locale.ROOT, "%,d", held.length)
                + " bytes");
    byte[] padded = Arrays.copyOf(held, pages * 4096);
    List<Long> expected = new ArrayList<>();
    for (int p = 0; p < pages; p++) {
      expected.add(Fingerprint.ofBytes(padded, p * 4096, 4096));
    }
    assertThat(read(91, 0, pages)).isEqualTo(expected);
  }

  @Test
  void grpcErrors_areStatuses_andTheCallersMistakesExitTwo() throws IOException {
    assertThat(client("create", "--host-id", "6", "--vm-id", "61", "--memory", "1M").exit())
        .isZero();
    CliRun dup = client("create", "--host-id", "6", "--vm-id", "61", "--memory", "2M");
    assertThat(dup.exit()).as("ALREADY_EXISTS is the caller's request").isEqualTo(2);
    assertThat(dup.err()).contains("ALREADY_EXISTS").doesNotContain("Exception");
    assertThat(getVm(61).getMemorySizeBytes()).isEqualTo(1 << 20);
    CliRun unknown = client("load", "--vm", "999", file("x.bin", 4096, 1).toString());
    assertThat(unknown.exit()).as("NOT_FOUND is the caller's request").isEqualTo(2);
    assertThat(unknown.err()).contains("NOT_FOUND").doesNotContain("Exception");
  }
}
