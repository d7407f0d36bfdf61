package org.mmumesh.cli;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.mmumesh.common.Fingerprint;
import org.mmumesh.gateway.GatewayServer;
import org.mmumesh.gateway.Limits;
import org.mmumesh.proto.v1.GetVmRequest;
import org.mmumesh.proto.v1.GetVmResponse;
import org.mmumesh.proto.v1.LoadMemoryRequest;
import org.mmumesh.proto.v1.VmRef;
import org.mmumesh.proto.v1.VmServiceGrpc;
import org.mmumesh.workload.IoErrors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mmumesh client load --vm N [--gfn G] FILE}: loads a file's bytes into guest memory from
 * guest frame G, as {@code VmService.LoadMemory} image chunks of {@link #CHUNK_PAGES} pages (at
 * most 16 MiB, the API's limit, and below the server's inbound message limit); the last page is
 * padded with zero bytes. The gateway hashes each 4 KiB page into its fingerprint (the model keeps
 * a fingerprint per frame, not the bytes; architecture section 1). The VM is described first
 * (GetVm) and a file that does not fit its memory from G is refused before anything is sent (exit
 * 2, naming the file and the limit); frames that overlap the guest HTAB are loaded (the API allows
 * it) with a note on stderr. A gRPC error part-way (exit 3) leaves the chunks before it loaded.
 */
@Command(
    name = "load",
    mixinStandardHelpOptions = true,
    description = "Loads a file into a VM's guest memory (zero-padded to whole pages).")
final class ClientLoad implements Callable<Integer> {
  /**
   * Pages per LoadMemory call: the API's {@link Limits#MAX_LOAD_PAGES} (16 MiB), unless the
   * gateway's {@link GatewayServer#MAX_INBOUND_MESSAGE_BYTES} were smaller (a page to spare for the
   * message's other fields).
   */
  static final int CHUNK_PAGES =
      Math.min(
          Limits.MAX_LOAD_PAGES,
          GatewayServer.MAX_INBOUND_MESSAGE_BYTES / Fingerprint.PAGE_BYTES - 1);

  @ParentCommand ClientCommand client;
  @Spec CommandSpec spec;

  @Option(names = "--vm", required = true, description = "The VM id.")
  int vm;

  @Option(
      names = "--gfn",
      description = "The first guest frame to load (default ${DEFAULT-VALUE}).",
      defaultValue = "0")
  long gfn;

  @Option(
      names = "--progress",
      description = "auto, on or off (default ${DEFAULT-VALUE}).",
      defaultValue = "auto")
  String progress;

  @Parameters(paramLabel = "FILE", description = "The file to load.")
  Path file;

  @Override
  public Integer call() {
    if (vm < 0 || vm > Limits.MAX_VM_ID) {
      throw new IllegalArgumentException(
          "--vm: " + vm + " is out of range; allowed 0 to " + Limits.MAX_VM_ID);
    }
    if (gfn < 0) {
      throw new IllegalArgumentException("--gfn: " + gfn + " is out of range; allowed 0 and up");
    }
    boolean showProgress = ProgressBar.enabled(progress);
    String unusable = IoErrors.whyNotAReadableFile(file);
    if (unusable != null) {
      throw new IllegalArgumentException(
          "FILE: '" + file + "' cannot be loaded: " + unusable + "; allowed: a readable file");
    }
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "FILE: '" + file + "' cannot be read: " + IoErrors.describe(e), e);
    }
    long pages = (size + Fingerprint.PAGE_BYTES - 1) / Fingerprint.PAGE_BYTES;
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    return client.with(
        err,
        ch -> {
          VmServiceGrpc.VmServiceBlockingStub vms = VmServiceGrpc.newBlockingStub(ch);
          VmRef ref = VmRef.newBuilder().setVmId(vm).build();
          GetVmResponse v = vms.getVm(GetVmRequest.newBuilder().setVm(ref).build());
          long memPages = v.getMemorySizeBytes() >>> 12;
          if (gfn >= memPages) {
            throw new IllegalArgumentException(
                String.format(
                    Locale.ROOT,
                    "--gfn: %d is out of range; vm %d has %d pages, allowed 0 to %d",
                    gfn,
                    vm,
                    memPages,
                    memPages - 1));
          }
          long room = memPages - gfn;
          if (pages > room) {
            throw new IllegalArgumentException(
                String.format(
                    Locale.ROOT,
                    "FILE: '%s' is %,d bytes (%,d pages) and does not fit vm %d's memory from"
                        + " guest frame %d; allowed: at most %,d pages (%,d bytes)",
                    file,
                    size,
                    pages,
                    vm,
                    gfn,
                    room,
                    room << 12));
          }
          ProgressBar bar =
              showProgress
                  ? new ProgressBar(
                      err,
                      "vm " + vm + " load " + file.getFileName(),
                      System.console() != null,
                      "pages")
                  : null;
          long[] read = new long[1];
          long loaded = load(vms, ref, room, pages, bar, read);
          long bytes = read[0];
          if (bar != null) {
            bar.finish();
          }
          if (loaded == 0) {
            out.printf(Locale.ROOT, "loaded no pages into vm %d: %s is empty%n", vm, file);
            out.flush();
            return 0;
          }
          long htabFirst = v.getHtabGuestRealAddr() >>> 12;
          long htabEnd = htabFirst + (v.getHtabSizeBytes() >>> 12);
          if (gfn < htabEnd && gfn + loaded > htabFirst) {
            err.printf(
                Locale.ROOT,
                "mmumesh client: note: guest frames %d..%d overlap vm %d's guest HTAB (frames"
                    + " %d..%d)%n",
                Math.max(gfn, htabFirst),
                Math.min(gfn + loaded, htabEnd) - 1,
                vm,
                htabFirst,
                htabEnd - 1);
            err.flush();
          }
          out.printf(
              Locale.ROOT,
              "loaded %,d page%s into vm %d at guest frames %d..%d from %s (%,d bytes%s)%n",
              loaded,
              loaded == 1 ? "" : "s",
              vm,
              gfn,
              gfn + loaded - 1,
              file,
              bytes,
              bytes % Fingerprint.PAGE_BYTES == 0
                  ? ""
                  : ", last page padded with "
                      + (loaded * Fingerprint.PAGE_BYTES - bytes)
                      + " zero bytes");
          out.flush();
          return 0;
        });
  }

  /**
   * Sends the file in chunks of {@link #CHUNK_PAGES}, read to its end (not to its listed size:
   * files of /proc report size 0 and hold data) but never past {@code room} pages; answers the
   * pages the gateway loaded and sets {@code read[0]} to the bytes read.
   */
  private long load(
      VmServiceGrpc.VmServiceBlockingStub vms,
      VmRef ref,
      long room,
      long pages,
      ProgressBar bar,
      long[] read) {
    byte[] buf = new byte[(int) Math.max(1, Math.min(pages, CHUNK_PAGES)) * Fingerprint.PAGE_BYTES];
    long loaded = 0;
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
        int padded = (n + Fingerprint.PAGE_BYTES - 1) & -Fingerprint.PAGE_BYTES;
        if (loaded + padded / Fingerprint.PAGE_BYTES > room) {
          throw new IllegalArgumentException(
              String.format(
                  Locale.ROOT,
                  "FILE: '%s' holds more than %,d pages and does not fit vm %d's memory from guest"
                      + " frame %d (%,d pages were loaded); allowed: at most %,d pages",
                  file,
                  room,
                  vm,
                  gfn,
                  loaded,
                  room));
        }
        Arrays.fill(buf, n, padded, (byte) 0);
        loaded +=
            vms.loadMemory(
                    LoadMemoryRequest.newBuilder()
                        .setVm(ref)
                        .setGuestFrameStart(gfn + loaded)
                        .setImage(ByteString.copyFrom(buf, 0, padded))
                        .build())
                .getPagesLoaded();
        read[0] += n;
        if (bar != null) {
          bar.update(loaded, Math.max(pages, loaded));
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "FILE: '"
              + file
              + "' cannot be read after "
              + loaded
              + " pages were loaded: "
              + IoErrors.describe(e),
          e);
    }
    return loaded;
  }
}
