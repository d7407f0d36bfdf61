package org.mmumesh.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.common.Quirk;
import picocli.CommandLine.Option;

/** The {@code --policy} and {@code --quirk} options every command shares. */
final class PolicyOptions {
  @Option(
      names = "--policy",
      split = ",",
      paramLabel = "POLICY",
      description = "Policies to compare: legacy, fixed, strict (default: all three).")
  List<String> policies = new ArrayList<>(List.of("legacy", "fixed", "strict"));

  @Option(
      names = "--quirk",
      split = ",",
      paramLabel = "Qn=on|off",
      description = "Override a quirk flag for every policy, e.g. q1=on or q8=off.")
  List<String> quirks = new ArrayList<>();

  /** The requested policies with their default quirks and the overrides applied. */
  List<MmuOptions> resolve() {
    List<QuirkOverride> overrides = quirks.stream().map(QuirkOverride::parse).toList();
    List<MmuOptions> out = new ArrayList<>();
    for (String name : policies) {
      MmuOptions o = MmuOptions.defaults(Policy.parse(name));
      for (QuirkOverride q : overrides) {
        o = o.with(q.quirk(), q.on());
      }
      out.add(o);
    }
    return out;
  }

  /** One {@code --quirk qN=on|off}. */
  record QuirkOverride(Quirk quirk, boolean on) {
    static QuirkOverride parse(String text) {
      int eq = text.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException(
            "--quirk: '" + text + "' has no '='; allowed: qN=on or qN=off");
      }
      String v = text.substring(eq + 1).trim().toLowerCase(Locale.ROOT);
      if (!v.equals("on") && !v.equals("off")) {
        throw new IllegalArgumentException(
            "--quirk: '" + text + "' has value '" + v + "'; allowed: on, off");
      }
      return new QuirkOverride(Quirk.parse(text.substring(0, eq)), v.equals("on"));
    }
  }
}
