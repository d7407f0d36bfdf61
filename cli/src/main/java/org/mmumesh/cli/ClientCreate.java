package org.mmumesh.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.gateway.Limits;
import org.mmumesh.gateway.ProtoMapping;
import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.CreateVmRequest;
import org.mmumesh.proto.v1.CreateVmResponse;
import org.mmumesh.proto.v1.HostMmuKind;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.HostSummary;
import org.mmumesh.proto.v1.ListHostsRequest;
import org.mmumesh.proto.v1.MmuKind;
import org.mmumesh.proto.v1.VmServiceGrpc;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mmumesh client create}: creates a host (when {@code --host-id} does not exist yet) and/or
 * a VM on it ({@code --vm-id}), through {@code HostService.CreateHost} and {@code
 * VmService.CreateVm}, and prints what was created (the VM's guest HTAB location from the
 * response). Every option is checked against the API's documented ranges ({@link Limits}) before
 * anything is sent, so a bad option (exit 2, naming the option and its range) creates nothing; the
 * existing host is looked up first (ListHosts) for the same reason. A gRPC error is a status and
 * message (exit 3, {@link ClientCommand#with}); if CreateVm fails after this command created the
 * host, the host stays (host ids are not reused, so it is not deleted) and was already reported.
 */
@Command(
    name = "create",
    mixinStandardHelpOptions = true,
    description = "Creates a host (if new) and/or a VM on a gateway.")
final class ClientCreate implements Callable<Integer> {
  @ParentCommand ClientCommand client;
  @Spec CommandSpec spec;

  @Option(
      names = "--host-id",
      description = "The host (0 to 1023; created if it does not exist; default ${DEFAULT-VALUE}).",
      defaultValue = "1")
  int hostId;

  @Option(
      names = "--host",
      paramLabel = "32|64",
      description = "The MMU of a new host: 32 or 64 (default 64).")
  Integer hostMmu;

  @Option(
      names = "--max-frames",
      description = "Page frames of a new host, 1 to 16777216 (default 16777216).")
  Long maxFrames;

  @Option(names = "--vm-id", description = "The VM to create, 0 to 65535 (none: host only).")
  Integer vmId;

  @Option(
      names = "--mmu",
      paramLabel = "32|64",
      description = "The guest MMU: 32 or 64 (default ${DEFAULT-VALUE}).",
      defaultValue = "64")
  int mmu;

  @Option(
      names = "--memory",
      paramLabel = "SIZE",
      description =
          "Guest memory: bytes or with a K, M or G suffix, a multiple of 4096, 64K to 4G (32-bit)"
              + " or 64G (64-bit) (default ${DEFAULT-VALUE}).",
      defaultValue = "16M")
  String memory;

  @Option(
      names = "--vcpus",
      description = "vCPUs, 1 to 64 (default ${DEFAULT-VALUE}).",
      defaultValue = "1")
  int vcpus;

  @Option(
      names = "--policy",
      description = "legacy, fixed or strict (default ${DEFAULT-VALUE}).",
      defaultValue = "strict")
  String policy;

  @Option(
      names = "--quirk",
      split = ",",
      paramLabel = "Qn=on|off",
      description = "Override one of the policy's default quirks, e.g. q1=on or q8=off.")
  List<String> quirks = new ArrayList<>();

  @Option(
      names = "--tlb-entries",
      description = "TLB entries per vCPU, a power of two 1 to 65536 (default 1024).")
  Integer tlbEntries;

  @Option(names = "--mergeable", description = "Mark the VM's memory mergeable for KSM.")
  boolean mergeable;

  @Override
  public Integer call() {
    range("--host-id", hostId, 0, Limits.MAX_HOST_ID);
    mmuBits("--mmu", mmu);
    boolean host32 = false;
    if (hostMmu != null) {
      host32 = mmuBits("--host", hostMmu) == 32;
    }
    if (maxFrames != null) {
      range("--max-frames", maxFrames, 1, Limits.MAX_FRAMES);
    }
    Optional<VmPlan> vm = vmId == null ? Optional.empty() : Optional.of(plan());
    if (vm.isPresent() && vm.get().is64 && host32) {
      throw new IllegalArgumentException(
          "--mmu: a 64-bit guest cannot run on a 32-bit host (--host 32); allowed: --mmu 32");
    }
    PrintWriter out = spec.commandLine().getOut();
    boolean newHost32 = host32;
    return client.with(
        spec.commandLine().getErr(),
        ch -> {
          HostServiceGrpc.HostServiceBlockingStub hosts = HostServiceGrpc.newBlockingStub(ch);
          Optional<HostSummary> existing =
              hosts.listHosts(ListHostsRequest.getDefaultInstance()).getHostsList().stream()
                  .filter(h -> h.getHostId() == hostId)
                  .findFirst();
          long frames = maxFrames == null ? Limits.MAX_FRAMES : maxFrames;
          if (existing.isPresent()) {
            check(existing.get(), vm);
          } else if (vm.isPresent() && vm.get().pages() > frames) {
            throw new IllegalArgumentException(
                String.format(
                    Locale.ROOT,
                    "--memory: %d pages do not fit the new host's --max-frames %d; allowed: at"
                        + " most %d pages (%d bytes)",
                    vm.get().pages(),
                    frames,
                    frames,
                    frames << 12));
          }
          if (existing.isEmpty()) {
            hosts.createHost(
                CreateHostRequest.newBuilder()
                    .setHostId(hostId)
                    .setHostMmu(
                        newHost32 ? HostMmuKind.HOST_MMU_KIND_32 : HostMmuKind.HOST_MMU_KIND_64)
                    .setMaxFrames(frames)
                    .build());
            out.printf(
                Locale.ROOT,
                "created host %d: %d-bit host MMU, %,d frames%n",
                hostId,
                newHost32 ? 32 : 64,
                frames);
            out.flush();
          }
          if (vm.isPresent()) {
            VmPlan p = vm.get();
            CreateVmResponse r =
                VmServiceGrpc.newBlockingStub(ch)
                    .createVm(
                        CreateVmRequest.newBuilder()
                            .setVmId(vmId)
                            .setHostId(hostId)
                            .setMmuKind(
                                p.is64 ? MmuKind.MMU_KIND_BOOK3S_64 : MmuKind.MMU_KIND_BOOK3S_32)
                            .setMemorySizeBytes(p.bytes)
                            .setVcpuCount(vcpus)
                            .setOptions(ProtoMapping.toProto(p.options))
                            .setTlbEntries(tlbEntries == null ? 0 : tlbEntries)
                            .setKsmMergeable(mergeable)
                            .build());
            out.printf(
                Locale.ROOT,
                "created vm %d on host %d: %d-bit MMU, %s (%,d pages), %d vCPU%s, %s,"
                    + " TLB %d entries%s%n",
                r.getVm().getVmId(),
                hostId,
                p.is64 ? 64 : 32,
                human(p.bytes),
                p.pages(),
                vcpus,
                vcpus == 1 ? "" : "s",
                p.options.describe(),
                tlbEntries == null ? Limits.DEFAULT_TLB_ENTRIES : tlbEntries,
                mergeable ? ", KSM-mergeable" : "");
            out.printf(
                Locale.ROOT,
                "  guest HTAB at 0x%x, %s (%,d bytes)%n",
                r.getHtabGuestRealAddr(),
                human(r.getHtabSizeBytes()),
                r.getHtabSizeBytes());
            out.flush();
          }
          return 0;
        });
  }

  /** The VM to create, every option checked against the API's ranges. */
  private record VmPlan(boolean is64, long bytes, MmuOptions options) {
    long pages() {
      return bytes >>> 12;
    }
  }

  private VmPlan plan() {
    range("--vm-id", vmId, 0, Limits.MAX_VM_ID);
    boolean is64 = mmuBits("--mmu", mmu) == 64;
    long bytes = parseSize("--memory", memory);
    long max = is64 ? Limits.MAX_MEMORY_BYTES_64 : Limits.MAX_MEMORY_BYTES_32;
    if (bytes % 4096 != 0 || bytes < Limits.MIN_MEMORY_BYTES || bytes > max) {
      throw new IllegalArgumentException(
          String.format(
              Locale.ROOT,
              "--memory: '%s' (%d bytes) is not allowed; allowed: a multiple of 4096 from 64K to"
                  + " %s for a %d-bit guest",
              memory,
              bytes,
              is64 ? "64G" : "4G",
              is64 ? 64 : 32));
    }
    range("--vcpus", vcpus, 1, Limits.MAX_VCPUS);
    if (tlbEntries != null
        && (tlbEntries < 1
            || tlbEntries > Limits.MAX_TLB_ENTRIES
            || Integer.bitCount(tlbEntries) != 1)) {
      throw new IllegalArgumentException(
          "--tlb-entries: "
              + tlbEntries
              + " is not allowed; allowed: a power of two from 1 to "
              + Limits.MAX_TLB_ENTRIES);
    }
    PolicyOptions po = new PolicyOptions();
    po.policies = new ArrayList<>(List.of(policy));
    po.quirks = quirks;
    MmuOptions options;
    try {
      options = po.resolve().get(0);
    } catch (IllegalArgumentException e) {
      String m = e.getMessage();
      throw new IllegalArgumentException(m.startsWith("--") ? m : "--" + m, e);
    }
    return new VmPlan(is64, bytes, options);
  }

  /** Checks a VM against the host that exists already; refuses host options that disagree. */
  private void check(HostSummary h, Optional<VmPlan> vm) {
    boolean exists32 = h.getHostMmu() == HostMmuKind.HOST_MMU_KIND_32;
    if (hostMmu != null && (hostMmu == 32) != exists32) {
      throw new IllegalArgumentException(
          "--host: host "
              + hostId
              + " exists with a "
              + (exists32 ? 32 : 64)
              + "-bit MMU; allowed: --host "
              + (exists32 ? 32 : 64)
              + " or no --host");
    }
    if (maxFrames != null && maxFrames != h.getMaxFrames()) {
      throw new IllegalArgumentException(
          "--max-frames: host "
              + hostId
              + " exists with "
              + h.getMaxFrames()
              + " frames; allowed: --max-frames "
              + h.getMaxFrames()
              + " or none");
    }
    if (vm.isEmpty()) {
      throw new IllegalArgumentException(
          "--vm-id: host " + hostId + " exists, so there is nothing to create; give --vm-id");
    }
    if (vm.get().is64 && exists32) {
      throw new IllegalArgumentException(
          "--mmu: host " + hostId + " has a 32-bit MMU and cannot run a 64-bit guest; allowed: 32");
    }
  }

  private static int mmuBits(String option, int bits) {
    if (bits != 32 && bits != 64) {
      throw new IllegalArgumentException(option + ": " + bits + " is not allowed; allowed: 32, 64");
    }
    return bits;
  }

  private static void range(String option, long v, long lo, long hi) {
    if (v < lo || v > hi) {
      throw new IllegalArgumentException(
          option + ": " + v + " is out of range; allowed " + lo + " to " + hi);
    }
  }

  /** A size in bytes: digits with an optional K, M or G suffix (powers of 1024). */
  static long parseSize(String option, String text) {
    String t = text.trim().toUpperCase(Locale.ROOT);
    if (t.endsWith("IB")) {
      t = t.substring(0, t.length() - 2);
    } else if (t.endsWith("B") && t.length() > 1 && !Character.isDigit(t.charAt(t.length() - 2))) {
      t = t.substring(0, t.length() - 1);
    }
    int shift = 0;
    if (!t.isEmpty()) {
      switch (t.charAt(t.length() - 1)) {
        case 'K' -> shift = 10;
        case 'M' -> shift = 20;
        case 'G' -> shift = 30;
        default -> shift = 0;
      }
    }
    String digits = shift == 0 ? t : t.substring(0, t.length() - 1);
    long n;
    try {
      n = Long.parseLong(digits);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          option + ": '" + text + "' is not a size; allowed: bytes, or a number with K, M or G", e);
    }
    if (n < 0 || n > (Long.MAX_VALUE >>> shift)) {
      throw new IllegalArgumentException(
          option + ": '" + text + "' is out of range; allowed: 0 to 64G");
    }
    return n << shift;
  }

  /** {@code bytes} as the largest exact K/M/G unit. */
  static String human(long bytes) {
    if (bytes != 0 && bytes % (1L << 30) == 0) {
      return (bytes >>> 30) + " GiB";
    }
    if (bytes != 0 && bytes % (1L << 20) == 0) {
      return (bytes >>> 20) + " MiB";
    }
    if (bytes != 0 && bytes % (1L << 10) == 0) {
      return (bytes >>> 10) + " KiB";
    }
    return bytes + " bytes";
  }
}
