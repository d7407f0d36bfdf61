package org.mmumesh.workload;

/** How a generator picks the page of each access within its working set. */
public enum Locality {
  /** Every working-set page equally likely. */
  UNIFORM,
  /**
   * Zipf-distributed ranks: the rank-{@code k} page has weight {@code 1 / k^s} (see {@link
   * ZipfSampler}).
   */
  ZIPF;

  /** The CLI spelling, {@code uniform} or {@code zipf}. */
  public String cliName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Parses {@code uniform} or {@code zipf}; the error names the key {@code locality}. */
  public static Locality fromCli(String text) {
    return switch (text) {
      case "uniform" -> UNIFORM;
      case "zipf" -> ZIPF;
      default ->
          throw new IllegalArgumentException(
              "locality: '" + text + "' is invalid; allowed uniform or zipf");
    };
  }
}
