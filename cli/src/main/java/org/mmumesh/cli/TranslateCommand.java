package org.mmumesh.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.mmumesh.common.Access;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mmumesh translate}: sets up a guest and prints full translation walks under each policy.
 * Without {@code --ea} it runs the built-in scenarios of {@link TranslateDemo}.
 */
@Command(
    name = "translate",
    mixinStandardHelpOptions = true,
    description = {
      "Print full guest translation walks (segment, hash, PTEG addresses, matched slot,",
      "protection, R/C before and after, result) under each policy.",
      "Without --ea, runs built-in scenarios that show what the Linux change altered."
    })
final class TranslateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin PolicyOptions policyOptions = new PolicyOptions();

  @Option(
      names = "--mmu",
      paramLabel = "32|64",
      description = "Custom walk: the guest MMU (default 64).")
  int mmu = 64;

  @Option(
      names = "--ea",
      paramLabel = "ADDR",
      description = "Custom walk: the effective address (hex with 0x, or decimal).")
  String ea;

  @Option(
      names = "--access",
      paramLabel = "load|store|ifetch",
      description = "Custom walk: the access kind (default load).")
  String access = "load";

  @Option(
      names = "--pp",
      paramLabel = "0-3",
      description = "Custom walk: the PP bits of the HPTE placed for --ea (default 2).")
  int pp = 2;

  @Option(names = "--pr", description = "Custom walk: problem state (MSR.PR=1, key Kp=1).")
  boolean pr;

  @Option(
      names = "--no-hpte",
      description = "Custom walk: place no HPTE (to see -ENOENT / -EINVAL).")
  boolean noHpte;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    TranslateDemo demo = new TranslateDemo(policyOptions.resolve());
    if (ea == null) {
      demo.runScenarios(out);
    } else {
      if (mmu != 32 && mmu != 64) {
        throw new IllegalArgumentException("--mmu: " + mmu + " is not an MMU; allowed: 32, 64");
      }
      if (pp < 0 || pp > 3) {
        throw new IllegalArgumentException("--pp: " + pp + " is out of range; allowed 0 to 3");
      }
      long addr = parseAddress(ea);
      Access a = parseAccess(access);
      demo.runCustom(out, mmu, addr, a, pp, pr, !noHpte);
    }
    out.flush();
    return 0;
  }

  static long parseAddress(String text) {
    try {
      String t = text.trim().toLowerCase(java.util.Locale.ROOT);
      return t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseLong(t);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "--ea: '" + text + "' is not an address; allowed: 0x-prefixed hex or decimal", e);
    }
  }

  static Access parseAccess(String text) {
    for (Access a : Access.values()) {
      if (a.name().equalsIgnoreCase(text.trim())) {
        return a;
      }
    }
    throw new IllegalArgumentException(
        "--access: '" + text + "' is not an access kind; allowed: load, store, ifetch");
  }
}
