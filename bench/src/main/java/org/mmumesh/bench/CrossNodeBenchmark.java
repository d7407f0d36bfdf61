package org.mmumesh.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.pattern.Patterns;
import org.mmumesh.common.Access;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.mesh.ClusterIdentity;
import org.mmumesh.mesh.MeshCluster;
import org.mmumesh.mesh.NodeSettings;
import org.mmumesh.mesh.NodeSettings.Setting;
import org.mmumesh.mesh.Simulation;

/**
 * Cross-node fault latency (issue 12's benchmark): three JVMs on loopback, page frames on this one
 * (the driver, node 1), the VM's guest and host MMUs on a child JVM (node 2, role {@code mmu}) and
 * its vCPU on another (node 3, role {@code vcpu}), so every hop of a fault crosses Artery: the vCPU
 * asks the host MMU (lookup), the guest MMU (xlate), the page frames (gfn to pfn) and the host MMU
 * again (map), each a request/reply between two processes.
 *
 * <p>Measured in the same run, rounds interleaved (a warm-up round first, not counted), each
 * latency a single request in flight, HdrHistogram:
 *
 * <ul>
 *   <li><b>Artery round trip</b>: an ask from node 1 to an echo actor on node 3 and on node 2 (the
 *       node's {@link ClusterIdentity} actor: one small CBOR message each way, the shape of a mesh
 *       request/reply);
 *   <li><b>fault</b>: {@code Simulation.runBatch} of one store to a page whose guest HPTE exists
 *       (entered untimed just before, H_ENTER) but that the host has not mapped: exactly one NOHPTE
 *       exit (lookup, xlate, gfn to pfn, map), from node 1 to the vCPU and back: the fault's hops
 *       plus one round trip to the vCPU;
 *   <li><b>hit</b>: the same call for a store that hits the vCPU's TLB: the round trip to the vCPU
 *       with the batch's own cost, so {@code fault - hit} is the fault's own cost.
 * </ul>
 *
 * The aim: a fault's p50 within 5 Artery round trips (p50) (a fault is about 4-5 request/reply
 * pairs). Every fault is checked to be one (the vCPU's NOHPTE counter rises by the count).
 *
 * <p>{@code CrossNodeBenchmark [FAULTS_PER_ROUND [ROUNDS]]} (defaults 2000 and 5). The child JVMs
 * run this class with {@code --child ROLE SEED_PORT PORT} and stop when this JVM closes their
 * standard input.
 */
public final class CrossNodeBenchmark {
  private CrossNodeBenchmark() {}

  private static final long WINDOW = 0x1000_0000L;
  private static final int VM = 1;
  private static final int HOST = 1;

  /**
   * PP bits of a guest HPTE readable and writable by the guest kernel (spec 2.5, the PP x key
   * table: PP = 2 is read/write for both keys).
   */
  private static final int PP_RW = 2;

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--child")) {
      child(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
      return;
    }
    int perRound = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int seed = freePort();
    int mmuPort = freePort();
    int vcpuPort = freePort();
    try (MeshCluster frames = MeshCluster.node(settings("frames", seed, seed), false)) {
      List<Process> children = new ArrayList<>();
      try {
        children.add(startChild("mmu", seed, mmuPort));
        children.add(startChild("vcpu", seed, vcpuPort));
        run(frames, mmuPort, vcpuPort, perRound, rounds);
      } finally {
        for (Process p : children) {
          p.getOutputStream().close(); // the child's cue to stop
        }
        for (Process p : children) {
          if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
          }
        }
      }
    }
  }

  private static void run(MeshCluster frames, int mmuPort, int vcpuPort, int perRound, int rounds)
      throws Exception {
    Simulation sim = frames.simulation(0);
    // twice the pages touched: the guest HTAB sits at the top of guest memory, above the window
    long pages = 2L * perRound * (rounds + 1) + 4096;
    await(sim.createHost(HOST, false, pages + 4096));
    await(
        sim.createVm(
            new Simulation.VmConfig(
                VM, HOST, true, pages, 1, MmuOptions.defaults(Policy.STRICT), 4096, false)));
    long first = WINDOW;
    await(sim.runBatch(VM, 0, List.of(new AccessOp(Access.STORE, first, 1))));
    for (String[] e :
        new String[][] {
          {"PageFrame", "host-" + HOST}, {"GuestMmu", "vm-" + VM},
          {"HostMmu", "vm-" + VM}, {"Vcpu", "vm-" + VM + "/vcpu-0"}
        }) {
      System.out.printf(
          "%-9s %-12s on %s%n", e[0], e[1], await(sim.locate(e[0], e[1])).nodeAddress());
    }
    org.apache.pekko.actor.ActorSystem sys = frames.classicSystem(0);
    ActorRef echoVcpu = echo(sys, vcpuPort);
    ActorRef echoMmu = echo(sys, mmuPort);

    Histogram rttVcpu = new Histogram(3);
    Histogram rttMmu = new Histogram(3);
    Histogram fault = new Histogram(3);
    Histogram hit = new Histogram(3);
    long page = 1;
    long faultsBefore = 0;
    long faultsCounted = 0;
    for (int round = 0; round <= rounds; round++) {
      boolean counted = round > 0;
      if (round == 1) {
        faultsBefore = nohpte(sim);
      }
      for (int i = 0; i < perRound; i++) {
        record(counted ? rttVcpu : null, () -> ask(echoVcpu));
        record(counted ? rttMmu : null, () -> ask(echoMmu));
        long gfn = page++;
        long ea = WINDOW + (gfn << 12);
        // the guest's HPTE first (H_ENTER, untimed), so the store takes exactly one KVM fault
        await(sim.insertHpte(VM, 0, ea, gfn, PP_RW));
        record(counted ? fault : null, () -> store(sim, ea));
        record(counted ? hit : null, () -> store(sim, ea));
        if (counted) {
          faultsCounted++;
        }
      }
    }
    long faults = nohpte(sim) - faultsBefore;
    System.out.printf(
        "%n%d rounds of %d (after a warm-up round), one request in flight; NOHPTE exits: %,d for"
            + " %,d faulting stores%n",
        rounds, perRound, faults, faultsCounted);
    if (faults != faultsCounted) {
      throw new IllegalStateException("not every faulting store took exactly one exit: " + faults);
    }
    row("Artery round trip, node 1 -> vcpu node", rttVcpu);
    row("Artery round trip, node 1 -> mmu node", rttMmu);
    row("fault (runBatch of 1, one NOHPTE exit)", fault);
    row("TLB hit (runBatch of 1)", hit);
    double rtt = rttVcpu.getValueAtPercentile(50);
    double f50 = fault.getValueAtPercentile(50);
    double h50 = hit.getValueAtPercentile(50);
    System.out.printf(
        "fault p50 = %.1f Artery RTTs (aim <= 5: %s); fault - hit p50 = %.1f RTTs;"
            + " p99: %.1f RTTs%n",
        f50 / rtt,
        f50 / rtt <= 5 ? "met" : "missed",
        (f50 - h50) / rtt,
        (double) fault.getValueAtPercentile(99) / rttVcpu.getValueAtPercentile(99));
    await(sim.deleteVm(VM)); // the children then leave without state: no loss to report
  }

  private static void row(String what, Histogram h) {
    System.out.printf(
        "%-42s p50 %7.1f us  p99 %7.1f us  (n=%d)%n",
        what,
        h.getValueAtPercentile(50) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0,
        h.getTotalCount());
  }

  @FunctionalInterface
  private interface Call {
    void run() throws Exception;
  }

  private static void record(Histogram h, Call c) throws Exception {
    long t0 = System.nanoTime();
    c.run();
    long dt = System.nanoTime() - t0;
    if (h != null) {
      h.recordValue(dt);
    }
  }

  private static void ask(ActorRef echo) throws Exception {
    Object r =
        Patterns.ask(echo, new ClusterIdentity.Query("bench"), Duration.ofSeconds(30))
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    if (!(r instanceof ClusterIdentity.Identity)) {
      throw new IllegalStateException("echo answered " + r);
    }
  }

  private static void store(Simulation sim, long ea) throws Exception {
    Simulation.BatchResult r =
        await(sim.runBatch(VM, 0, List.of(new AccessOp(Access.STORE, ea, 1))));
    if (r.completed() != 1 || r.failed() != 0) {
      throw new IllegalStateException("store at 0x" + Long.toHexString(ea) + ": " + r);
    }
  }

  private static long nohpte(Simulation sim) throws Exception {
    Long n = await(sim.vmStats(VM)).counters().get("nohpte_exits");
    return n == null ? 0 : n;
  }

  private static ActorRef echo(org.apache.pekko.actor.ActorSystem sys, int port) throws Exception {
    return sys.actorSelection("pekko://mmumesh-mesh@127.0.0.1:" + port + ClusterIdentity.PATH)
        .resolveOne(Duration.ofSeconds(30))
        .toCompletableFuture()
        .get(60, TimeUnit.SECONDS);
  }

  private static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static NodeSettings settings(String roles, int seed, int port) {
    Map<Setting, String> o = new EnumMap<>(Setting.class);
    o.put(Setting.ROLES, roles);
    o.put(Setting.SEED_NODES, "127.0.0.1:" + seed);
    o.put(Setting.PORT, String.valueOf(port));
    return NodeSettings.resolve(o, Map.of(), com.typesafe.config.ConfigFactory.empty());
  }

  private static Process startChild(String role, int seed, int port) throws Exception {
    List<String> cmd =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx1g",
            "-cp",
            System.getProperty("java.class.path"),
            CrossNodeBenchmark.class.getName(),
            "--child",
            role,
            String.valueOf(seed),
            String.valueOf(port));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<Void> ready = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                for (String line; (line = out.readLine()) != null; ) {
                  if (line.startsWith("READY")) {
                    ready.complete(null);
                  } else if (line.contains("ERROR") || line.startsWith("Exception")) {
                    System.err.println("[" + role + "] " + line);
                  }
                }
              } catch (java.io.IOException e) {
                // the child ended
              }
              ready.completeExceptionally(new IllegalStateException(role + " node exited"));
            },
            "bench-child-" + role);
    t.setDaemon(true);
    t.start();
    ready.get(180, TimeUnit.SECONDS);
    return p;
  }

  private static void child(String role, int seed, int port) throws Exception {
    try (MeshCluster node = MeshCluster.node(settings(role, seed, port), false)) {
      System.out.println("READY " + node.address(0));
      System.out.flush();
      while (System.in.read() >= 0) {
        // runs until the driver closes our standard input (or dies)
      }
    }
  }

  private static <T> T await(java.util.concurrent.CompletionStage<T> s) throws Exception {
    return s.toCompletableFuture().get(120, TimeUnit.SECONDS);
  }
}
