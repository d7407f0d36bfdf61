package org.mmumesh.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.RunResult;
import org.mmumesh.engine.SequentialEngine;
import org.mmumesh.engine.SimCosts;
import org.mmumesh.guestmmu.ProtectionPolicy;
import org.mmumesh.mesh.MeshEngine;
import org.mmumesh.mesh.MeshResult;
import org.mmumesh.workload.WorkloadParser;
import org.mmumesh.workload.WorkloadSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mmumesh run}: runs one workload under each requested policy on the sequential engine and
 * prints a comparison table.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Run a workload under each policy and compare: exits, reflected faults, COW breaks of",
      "KSM pages, zero-page maps, spurious and missed C bits, KSM sharing vs memory really saved."
    })
final class RunCommand implements Callable<Integer> {
  /** The built-in demo: identical guests merged by KSM, then a read-mostly phase. */
  static final String DEMO_WORKLOAD =
      "identical:vms=4,pages=4096,image-distinct=1,ws=4096,read=0.995,locality=zipf,zipf-s=0.6,"
          + "accesses=400000,seed=1";

  @Spec CommandSpec spec;

  @Option(
      names = "--workload",
      paramLabel = "SPEC",
      description = {
        "The workload (default: the built-in demo, ${DEFAULT-VALUE}).",
        "Kinds: identical, uniform, lackey, image; see --help-workloads."
      },
      defaultValue = DEMO_WORKLOAD)
  String workload;

  @Option(names = "--help-workloads", description = "Describe the workload syntax and exit.")
  boolean helpWorkloads;

  @Mixin PolicyOptions policyOptions = new PolicyOptions();

  @Option(
      names = "--engine",
      paramLabel = "sequential|actors",
      description = {
        "The engine: actors (default): the Pekko actor mesh on an embedded single-node",
        "cluster, KSM stepped in lockstep by simulated time; or sequential: one thread, the",
        "reference, about 10x faster. Both print the same table."
      },
      defaultValue = "actors")
  String engine;

  @Option(
      names = "--check-invariants",
      description =
          "Check the architecture's invariants after every fault and KSM step (sequential engine)"
              + " or lockstep round (actors), incrementally: what changed since the last check;"
              + " fully at the end of the run.")
  boolean checkInvariants;

  @Mixin KsmOptions ksmOptions = new KsmOptions();

  @Option(
      names = "--guest-pp",
      paramLabel = "0-3",
      description = "PP bits the guest kernel gives its pages (default 2, read/write).",
      defaultValue = "2")
  int guestPp;

  @Option(
      names = "--on-protection",
      paramLabel = "upgrade|fail",
      description = "Guest kernel policy for protection faults (default ${DEFAULT-VALUE}).",
      defaultValue = "upgrade")
  String onProtection;

  @Option(
      names = "--cost",
      split = ",",
      paramLabel = "NAME=NS",
      description = {
        "Override a simulated cost in ns: tlb, htab, exit, fault, reflect, copy, mmio, ksm",
        "(defaults 1, 20, 1000, 2000, 3000, 1000, 5000, 200)."
      })
  List<String> costs = new ArrayList<>();

  @Option(
      names = "--details",
      description = "Also print every counter of every run (per-VM totals and host counters).")
  boolean details;

  @Option(
      names = "--series",
      paramLabel = "FILE",
      description = "Write the KSM time series of every policy to FILE as CSV.")
  java.nio.file.Path series;

  @Option(
      names = "--html",
      paramLabel = "FILE",
      description =
          "Also write a self-contained HTML report with charts (KSM sharing over time, faults"
              + " by kind, C-bit accuracy) to FILE.")
  java.nio.file.Path html;

  @Option(
      names = "--progress",
      paramLabel = "auto|on|off",
      description = "Progress bar on standard error (default auto: when on a terminal).",
      defaultValue = "auto")
  String progress;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (helpWorkloads) {
      out.println(WorkloadParser.help());
      out.flush();
      return 0;
    }
    if (!engine.equals("sequential") && !engine.equals("actors")) {
      throw new IllegalArgumentException(
          "--engine: '" + engine + "' is not an engine; allowed: sequential, actors");
    }
    boolean showProgress = ProgressBar.enabled(progress);
    ProtectionPolicy onProt =
        switch (onProtection) {
          case "upgrade" -> ProtectionPolicy.UPGRADE;
          case "fail" -> ProtectionPolicy.FAIL;
          default ->
              throw new IllegalArgumentException(
                  "--on-protection: '" + onProtection + "' is not allowed; allowed: upgrade, fail");
        };
    List<MmuOptions> options = policyOptions.resolve();
    SimCosts simCosts = SimCosts.defaults();
    for (String c : costs) {
      int eq = c.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException(
            "--cost: '" + c + "' has no '='; allowed: NAME=NS, e.g. exit=1500");
      }
      long ns;
      try {
        ns = Long.parseLong(c.substring(eq + 1).trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "--cost: '" + c + "' has no whole number of ns; allowed 0 to 1000000000", e);
      }
      simCosts = simCosts.with(c.substring(0, eq).trim(), ns);
    }
    WorkloadSpec w = WorkloadParser.parse(workload);
    List<EngineConfig> configs = new ArrayList<>();
    for (MmuOptions o : options) {
      configs.add(
          ksmOptions
              .apply(EngineConfig.defaults(o))
              .withCosts(simCosts)
              .withGuest(guestPp, onProt)
              .withInvariants(checkInvariants));
    }
    boolean mesh = engine.equals("actors");
    // Build every sequential engine before running any, so a bad combination fails before work
    // starts (the mesh checks the same combinations when it starts).
    List<SequentialEngine> engines = new ArrayList<>();
    if (!mesh) {
      for (EngineConfig c : configs) {
        engines.add(new SequentialEngine(w, c));
      }
    } else {
      // Initialise logging before the actor system's threads log, so SLF4J has nothing to replay.
      org.slf4j.LoggerFactory.getILoggerFactory();
    }
    out.println("mmumesh run: " + w.name());
    String setup =
        "engine "
            + (mesh ? "actors (single-node cluster, KSM in lockstep)" : "sequential")
            + ", "
            + ksmOptions.describe()
            + (checkInvariants ? ", invariant checks on" : "");
    out.println(setup);
    out.flush();
    List<RunResult> results = new ArrayList<>();
    for (int i = 0; i < configs.size(); i++) {
      ProgressBar bar =
          new ProgressBar(err, configs.get(i).options().describe(), System.console() != null);
      RunResult r;
      if (mesh) {
        if (showProgress) {
          err.println("running " + configs.get(i).options().describe() + " on the actor mesh ...");
          err.flush();
        }
        MeshResult m = MeshEngine.run(w, configs.get(i));
        m.failures().stream().limit(5).forEach(f -> out.println("  failed: " + f));
        r = m.runResult();
      } else {
        r = engines.get(i).run(showProgress ? bar::update : null);
        if (showProgress) {
          bar.finish();
        }
        engines.set(i, null); // let the finished engine's memory go
      }
      results.add(r);
    }
    out.println();
    RunReport.print(out, results);
    if (details) {
      RunReport.printDetails(out, results);
    }
    if (series != null) {
      RunReport.writeSeries(series, results);
      out.println("KSM time series written to " + series);
    }
    if (html != null) {
      RunHtml.write(html, w.name(), setup, results);
      out.println("HTML report written to " + html);
    }
    out.flush();
    return 0;
  }
}
