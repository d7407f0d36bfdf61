package org.mmumesh.cli;

import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The options {@code serve} and {@code node} share (a picocli mixin, so the two commands cannot
 * drift): how long in-flight calls drain at shutdown, and the node's memory budget.
 */
final class ServingOptions {
  @Option(
      names = "--drain-seconds",
      description = "How long in-flight calls may finish at shutdown (default ${DEFAULT-VALUE}).",
      defaultValue = "10")
  int drainSeconds;

  @Option(
      names = "--memory-budget",
      description = {
        "Heap the hosts, VMs, loads, event watchers and workload batches may take, projected",
        "before anything is allocated; what does not fit gets RESOURCE_EXHAUSTED: auto (75%% of",
        "-Xmx minus the heap in use at start) or a size like 512m, 4g (default ${DEFAULT-VALUE})."
      },
      defaultValue = "auto")
  String memoryBudget;

  /**
   * {@code --drain-seconds} as a duration.
   *
   * @throws IllegalArgumentException naming the option and the allowed range (0 to 3600)
   */
  Duration drain() {
    if (drainSeconds < 0 || drainSeconds > 3600) {
      throw new IllegalArgumentException(
          "--drain-seconds: " + drainSeconds + " is out of range; allowed 0 to 3600");
    }
    return Duration.ofSeconds(drainSeconds);
  }
}
