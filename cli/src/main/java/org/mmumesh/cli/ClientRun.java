package org.mmumesh.cli;

import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntConsumer;
import java.util.stream.Collectors;
import org.mmumesh.common.Policy;
import org.mmumesh.engine.GuestLayout;
import org.mmumesh.proto.v1.AccessServiceGrpc;
import org.mmumesh.proto.v1.Counter;
import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.CreateVmRequest;
import org.mmumesh.proto.v1.GetHostStatsRequest;
import org.mmumesh.proto.v1.GetVmStatsRequest;
import org.mmumesh.proto.v1.HostMmuKind;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.KsmRun;
import org.mmumesh.proto.v1.KsmServiceGrpc;
import org.mmumesh.proto.v1.MmuKind;
import org.mmumesh.proto.v1.MmuOptions;
import org.mmumesh.proto.v1.RunKsmPassesRequest;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.RunWorkloadResponse;
import org.mmumesh.proto.v1.SetKsmControlRequest;
import org.mmumesh.proto.v1.VcpuRef;
import org.mmumesh.proto.v1.VmRef;
import org.mmumesh.proto.v1.VmServiceGrpc;
import org.mmumesh.workload.AccessBatch;
import org.mmumesh.workload.AccessSource;
import org.mmumesh.workload.WorkloadParser;
import org.mmumesh.workload.WorkloadSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mmumesh client run}: a workload (generated, or a Valgrind Lackey trace) on a running
 * gateway: creates a host and the workload's VMs, loads their boot image, lets KSM merge them,
 * streams every vCPU's accesses through {@code RunWorkload} (one batch in flight, a progress bar)
 * and prints each VM's counters and the host's KSM outcome. Host and VM ids are picked free ({@link
 * FreeIds}) unless given, so the same command runs any number of times against one gateway.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = "Creates the workload's VMs on a gateway and streams their accesses.")
final class ClientRun implements Callable<Integer> {
  @ParentCommand ClientCommand client;
  @Spec CommandSpec spec;

  @Option(
      names = "--workload",
      description = "The workload (see `mmumesh run --help-workloads`; default ${DEFAULT-VALUE}).",
      defaultValue =
          "identical:vms=2,vcpus=1,pages=256,mmu=64,seed=1,ws=256,read=0.99,accesses=20000")
  String workload;

  @Option(
      names = "--policy",
      description = "legacy, fixed or strict (default ${DEFAULT-VALUE}).",
      defaultValue = "strict")
  String policy;

  @Option(
      names = "--host-id",
      description =
          "The host id to create (default: a free one, after the largest the gateway lists).")
  Integer hostIdOption;

  @Option(
      names = "--first-vm",
      description =
          "The first VM id to create, the others following (default: free ones, after the"
              + " largest the gateway lists).")
  Integer firstVmOption;

  /** The host created (given, or picked). */
  private int hostId;

  /** The VMs created, in the workload's order (given from --first-vm, or picked). */
  private int[] vmIds;

  @Option(
      names = "--ksm-passes",
      description = "KSM passes before the run (default ${DEFAULT-VALUE}).",
      defaultValue = "2")
  int ksmPasses;

  @Option(
      names = "--batch",
      description = "Accesses per streamed batch (default ${DEFAULT-VALUE}).",
      defaultValue = "4096")
  int batch;

  @Option(
      names = "--progress",
      description = "auto, on or off (default ${DEFAULT-VALUE}).",
      defaultValue = "auto")
  String progress;

  @Override
  public Integer call() {
    Policy p = Policy.parse(policy);
    if (batch < 1 || batch > 65536) {
      throw new IllegalArgumentException(
          "--batch: " + batch + " is out of range; allowed 1 to 65536");
    }
    if (ksmPasses < 0 || ksmPasses > 100) {
      throw new IllegalArgumentException(
          "--ksm-passes: " + ksmPasses + " is out of range; allowed 0 to 100");
    }
    boolean showProgress = ProgressBar.enabled(progress);
    WorkloadSpec w = WorkloadParser.parse(workload);
    boolean is64 = w.mmu() == org.mmumesh.workload.MmuKind.BOOK3S_64;
    long memPages = GuestLayout.of(w.mmu(), w.pagesPerVm()).memoryPages();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    return client.with(
        err,
        ch -> {
          HostServiceGrpc.HostServiceBlockingStub hosts = HostServiceGrpc.newBlockingStub(ch);
          VmServiceGrpc.VmServiceBlockingStub vms = VmServiceGrpc.newBlockingStub(ch);
          KsmServiceGrpc.KsmServiceBlockingStub ksm = KsmServiceGrpc.newBlockingStub(ch);
          FreeIds.Start free =
              hostIdOption == null || firstVmOption == null ? FreeIds.start(hosts) : null;
          IntConsumer createHost =
              id ->
                  hosts.createHost(
                      CreateHostRequest.newBuilder()
                          .setHostId(id)
                          .setHostMmu(HostMmuKind.HOST_MMU_KIND_64)
                          .setMaxFrames(Math.min(1L << 24, w.vms() * memPages + 1024))
                          .build());
          if (hostIdOption != null) {
            hostId = hostIdOption;
            createHost.accept(hostId);
          } else {
            hostId = FreeIds.create("host", free.host(), FreeIds.maxHost(), createHost);
          }
          vmIds = new int[w.vms()];
          int nextVm = firstVmOption != null ? firstVmOption : free.vm();
          for (int i = 0; i < w.vms(); i++) {
            IntConsumer createVm =
                id ->
                    vms.createVm(
                        CreateVmRequest.newBuilder()
                            .setVmId(id)
                            .setHostId(hostId)
                            .setMmuKind(
                                is64 ? MmuKind.MMU_KIND_BOOK3S_64 : MmuKind.MMU_KIND_BOOK3S_32)
                            .setMemorySizeBytes(Math.max(16, memPages) << 12)
                            .setVcpuCount(w.vcpusPerVm())
                            .setOptions(
                                MmuOptions.newBuilder()
                                    .setPolicy(org.mmumesh.gateway.ProtoMapping.toProto(p))
                                    .setUsePolicyDefaults(true))
                            .setKsmMergeable(true)
                            .build());
            if (firstVmOption != null) {
              vmIds[i] = firstVmOption + i;
              createVm.accept(vmIds[i]);
            } else {
              vmIds[i] = FreeIds.create("VM", nextVm, FreeIds.maxVm(), createVm);
              nextVm = vmIds[i] + 1;
            }
            int vm = vmIds[i];
            if (w.image().isPresent()) {
              LockstepClient.loadImage(vms, vm, w.image().get());
            }
          }
          out.printf(
              "mmumesh client run on %s: %s, %s, host %d, VMs %s%n",
              client.target, w.name(), p.cliName(), hostId, ids(vmIds));
          if (ksmPasses > 0) {
            ksm.setKsmControl(
                SetKsmControlRequest.newBuilder()
                    .setHostId(hostId)
                    .setRun(KsmRun.KSM_RUN_MERGE)
                    .setPagesToScan(1)
                    .build());
            Map<String, Long> k =
                counters(
                    ksm.runKsmPasses(
                            RunKsmPassesRequest.newBuilder()
                                .setHostId(hostId)
                                .setPasses(ksmPasses)
                                .build())
                        .getCountersList());
            out.printf(
                "KSM after %d passes: pages_sharing %,d%n", ksmPasses, k.get("pages_sharing"));
          }
          for (int i = 0; i < w.vms(); i++) {
            for (int v = 0; v < w.vcpusPerVm(); v++) {
              stream(ch, w, i, v, showProgress ? err : null);
            }
          }
          for (int i = 0; i < w.vms(); i++) {
            Map<String, Long> s =
                counters(
                    vms.getVmStats(
                            GetVmStatsRequest.newBuilder()
                                .setVm(VmRef.newBuilder().setVmId(vmIds[i]))
                                .build())
                        .getCountersList());
            out.printf(
                "vm %d: accesses %,d  failed %,d  NOHPTE %,d  PROTFAULT %,d  spurious C %,d%n",
                vmIds[i],
                get(s, "accesses"),
                get(s, "failed_accesses"),
                get(s, "nohpte_exits"),
                get(s, "protfault_exits"),
                get(s, "spurious_c"));
          }
          Map<String, Long> host =
              counters(
                  hosts
                      .getHostStats(GetHostStatsRequest.newBuilder().setHostId(hostId).build())
                      .getCountersList());
          out.printf(
              "host %d: KSM pages unshared by copy-on-write (cow_ksm) %,d%n",
              hostId, get(host, "cow_ksm"));
          out.flush();
          return 0;
        });
  }

  /** Streams vCPU {@code v} of VM {@code i}'s accesses, one batch in flight. */
  private void stream(ManagedChannel ch, WorkloadSpec w, int i, int v, PrintWriter bar) {
    AccessSource src = w.sourceFor(i, v);
    long total = src.expectedAccesses();
    AccessBatch b = new AccessBatch(batch);
    CompletableFuture<Void> done = new CompletableFuture<>();
    ProgressBar pb =
        bar == null
            ? null
            : new ProgressBar(bar, "vm " + vmIds[i] + " vcpu " + v, System.console() != null);
    long[] sent = {0};
    StreamObserver<RunWorkloadRequest>[] req = new StreamObserver[1];
    req[0] =
        AccessServiceGrpc.newStub(ch)
            .runWorkload(
                new StreamObserver<>() {
                  @Override
                  public void onNext(RunWorkloadResponse r) {
                    if (pb != null) {
                      pb.update(sent[0], total);
                    }
                    next(req[0], src, b, i, v, sent);
                  }

                  @Override
                  public void onError(Throwable t) {
                    done.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    done.complete(null);
                  }
                });
    next(req[0], src, b, i, v, sent);
    try {
      done.get(30, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("the workload stream did not finish in 30 minutes", e);
    }
    if (pb != null) {
      pb.finish();
    }
  }

  private void next(
      StreamObserver<RunWorkloadRequest> req,
      AccessSource src,
      AccessBatch b,
      int i,
      int v,
      long[] sent) {
    int n = src.fill(b);
    if (n == 0) {
      req.onCompleted();
      return;
    }
    RunWorkloadRequest r =
        WorkloadBatches.encode(
            VcpuRef.newBuilder().setVmId(vmIds[i]).setVcpuIndex(v).build(), sent[0] + 1, b, n);
    sent[0] += n;
    req.onNext(r);
  }

  /** "5..7" for consecutive ids, else "5, 9, 10". */
  static String ids(int[] ids) {
    boolean consecutive = true;
    for (int i = 1; i < ids.length; i++) {
      consecutive &= ids[i] == ids[i - 1] + 1;
    }
    if (consecutive && ids.length > 0) {
      return ids[0] + ".." + ids[ids.length - 1];
    }
    return java.util.Arrays.stream(ids)
        .mapToObj(Integer::toString)
        .collect(Collectors.joining(", "));
  }

  private static Map<String, Long> counters(java.util.List<Counter> rows) {
    return rows.stream()
        .collect(
            Collectors.toMap(
                c -> c.getName().toLowerCase(java.util.Locale.ROOT), Counter::getValue, Long::sum));
  }

  private static long get(Map<String, Long> m, String key) {
    return m.getOrDefault(key, 0L);
  }
}
