package org.mmumesh.cli;

import org.mmumesh.engine.EngineConfig;
import picocli.CommandLine.Option;

/**
 * The options of a run's host and ksmd that {@code run} and {@code demo} share: host MMU width, KSM
 * {@code pages_to_scan} / {@code sleep_millisecs} (simulated time), warm-up passes and the KSM
 * series' sampling interval.
 */
final class KsmOptions {
  @Option(
      names = "--host",
      paramLabel = "32|64",
      description = "Host MMU width (default ${DEFAULT-VALUE}).",
      defaultValue = "64")
  int host;

  @Option(
      names = "--ksm-pages-to-scan",
      paramLabel = "N",
      description = "KSM pages_to_scan (default ${DEFAULT-VALUE}).",
      defaultValue = "1000")
  int ksmPagesToScan;

  @Option(
      names = "--ksm-sleep-ms",
      paramLabel = "MS",
      description = "KSM sleep_millisecs in simulated time (default ${DEFAULT-VALUE}).",
      defaultValue = "20")
  long ksmSleepMs;

  @Option(
      names = "--ksm-warmup",
      paramLabel = "PASSES",
      description = "Full KSM passes before the guests run (default ${DEFAULT-VALUE}).",
      defaultValue = "2")
  int ksmWarmup;

  @Option(
      names = "--sample-ms",
      paramLabel = "MS",
      description = "Simulated time between KSM samples (default ${DEFAULT-VALUE}).",
      defaultValue = "5")
  long sampleMs;

  /** {@code c} with these options applied; a value out of range names its option. */
  EngineConfig apply(EngineConfig c) {
    if (host != 32 && host != 64) {
      throw new IllegalArgumentException("--host: " + host + " is not a host; allowed: 32, 64");
    }
    if (sampleMs < 1 || sampleMs > 1_000_000) {
      throw new IllegalArgumentException(
          "--sample-ms: " + sampleMs + " is out of range; allowed 1 to 1000000");
    }
    return c.withHost32(host == 32)
        .withKsm(ksmPagesToScan, ksmSleepMs, ksmWarmup)
        .withSampleInterval(sampleMs * 1_000_000L);
  }

  /** The setup line's KSM part. */
  String describe() {
    return String.format(
        "%s host, KSM pages_to_scan=%d sleep_millisecs=%d warm-up=%d passes",
        host == 32 ? "32-bit" : "64-bit", ksmPagesToScan, ksmSleepMs, ksmWarmup);
  }
}
