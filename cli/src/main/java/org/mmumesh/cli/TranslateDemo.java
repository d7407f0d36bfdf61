package org.mmumesh.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import org.mmumesh.common.Access;
import org.mmumesh.common.Checks;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.guestmmu.Cpu32State;
import org.mmumesh.guestmmu.Cpu64State;
import org.mmumesh.guestmmu.GuestHtab;
import org.mmumesh.guestmmu.Hash32Mmu;
import org.mmumesh.guestmmu.Hash64Mmu;
import org.mmumesh.guestmmu.XlateResult;

/**
 * The translate demo: guests set up as the spec's fixtures F32 and F64 (spec section 8), HPTEs
 * placed with H_ENTER, and walks printed under each policy, followed by a summary table.
 */
final class TranslateDemo {
  static final long GUEST_MEMORY = 64L << 20;
  static final long SDR1_32 = 0x00100003L;
  static final long SDR1_64 = 0x0000000001000000L;

  private final List<MmuOptions> policies;

  TranslateDemo(List<MmuOptions> policies) {
    this.policies = policies;
  }

  /** A built-in scenario: one access to a freshly placed HPTE. */
  record Scenario(String title, int mmu, long ea, Access access, int pp, boolean pr) {}

  static List<Scenario> scenarios() {
    return List.of(
        new Scenario(
            "load from a read/write page (C must stay clear)",
            32,
            0x00345678L,
            Access.LOAD,
            2,
            true),
        new Scenario("store to a read/write page", 32, 0x00345678L, Access.STORE, 2, true),
        new Scenario(
            "load from a no-access page (PP=0, key 1)", 32, 0x00345678L, Access.LOAD, 0, true),
        new Scenario("store to a read-only page (PP=3)", 32, 0x00345678L, Access.STORE, 3, true),
        new Scenario(
            "load from a read/write page (C must stay clear)",
            64,
            0x10005000L,
            Access.LOAD,
            2,
            true),
        new Scenario("store to a read-only page (PP=3)", 64, 0x10005000L, Access.STORE, 3, true));
  }

  void runScenarios(PrintWriter out) {
    out.println("mmumesh translate: guest xlate walks (spec sections 2-4) under each policy.");
    out.println(
        "Guests: F32 (SDR1 0x00100003, SR0 0x20000123: VSID 0x123, Ks=0, Kp=1) and F64 (SDR1"
            + " 0x01000000, SLB ESID 1 -> VSID 0x1234, Ks=0, Kp=1); MSR.PR=1, IR=DR=1.");
    List<String[]> rows = new ArrayList<>();
    int n = 1;
    for (Scenario s : scenarios()) {
      for (MmuOptions p : policies) {
        Walk w = walk(s.mmu(), s.ea(), s.access(), s.pp(), s.pr(), true, p);
        out.println();
        out.printf(
            "== #%d %d-bit, %s: %s at 0x%08x under %s%n",
            n, s.mmu(), s.title(), s.access(), s.ea(), w.options());
        w.lines().forEach(l -> out.println("   " + l));
        rows.add(
            new String[] {
              "#" + n, s.mmu() + "-bit " + s.title(), w.options(), w.result(), w.rc(),
            });
      }
      n++;
    }
    out.println();
    out.println("Summary (R/C as the guest HPT holds them after the access):");
    printTable(out, new String[] {"#", "scenario", "policy", "result", "R/C after"}, rows);
    out.println();
    out.println(
        "Legacy sets C on a load to a writable page (#1, #5) and lets a store to a read-only page"
            + " succeed in xlate (#4, #6); fixed and strict set C only on stores and refuse the"
            + " store. In #3 and #4 the 32-bit quirk Q2 of fixed hides -EPERM behind the empty"
            + " secondary PTEG, so the guest would see a 'not found' fault (spec 1.1).");
  }

  void runCustom(
      PrintWriter out, int mmu, long ea, Access access, int pp, boolean pr, boolean placeHpte) {
    for (MmuOptions p : policies) {
      Walk w = walk(mmu, ea, access, pp, pr, placeHpte, p);
      out.printf("== %d-bit %s at 0x%x under %s%n", mmu, access, ea, w.options());
      w.lines().forEach(l -> out.println("   " + l));
    }
  }

  /** One walk's output. */
  record Walk(String options, List<String> lines, String result, String rc) {}

  static Walk walk(
      int mmu, long ea, Access access, int pp, boolean pr, boolean placeHpte, MmuOptions opts) {
    List<String> lines = new ArrayList<>();
    XlateResult r;
    long w1After;
    if (mmu == 32) {
      Checks.unsignedAtMost("ea", ea, 0xFFFFFFFFL);
      Hash32Mmu m = new Hash32Mmu(GuestHtab.forSdr1Book3s32(SDR1_32, GUEST_MEMORY), opts);
      Cpu32State cpu =
          new Cpu32State().mtsrin((int) (ea >>> 28), 0x20000123L).setMsr(pr, true, true);
      long pte = placeHpte ? m.enter(cpu, ea, 0x00ABC010L | pp) : -1;
      if (pte >= 0) {
        lines.add(String.format("H_ENTER: HPTE at 0x%08x, word1 0x%08x", pte, m.readWord1(pte)));
      }
      r = m.xlate(cpu, ea, access, true, lines::add);
      w1After = pte >= 0 ? m.readWord1(pte) : 0;
    } else {
      Hash64Mmu m = new Hash64Mmu(GuestHtab.forSdr1Book3s64(SDR1_64, GUEST_MEMORY), opts);
      Cpu64State cpu =
          new Cpu64State().setSegment(0, 1, 0x1234, false, true).setMsr(pr, true, true);
      long pte = placeHpte && cpu.findSlbe(ea) != null ? m.enter(cpu, ea, 0xAB010L | pp) : -1;
      if (pte >= 0) {
        lines.add(String.format("H_ENTER: HPTE at 0x%x, dword1 0x%x", pte, m.readWord1(pte)));
      }
      r = m.xlate(cpu, ea, access, true, lines::add);
      w1After = pte >= 0 ? m.readWord1(pte) : 0;
    }
    String rc = ((w1After & 0x100) != 0 ? "R" : "-") + ((w1After & 0x80) != 0 ? "C" : "-");
    return new Walk(opts.describe(), lines, r.status().name(), rc);
  }

  static void printTable(PrintWriter out, String[] header, List<String[]> rows) {
    int[] width = new int[header.length];
    for (int i = 0; i < header.length; i++) {
      width[i] = header[i].length();
      for (String[] row : rows) {
        width[i] = Math.max(width[i], row[i].length());
      }
    }
    printRow(out, header, width);
    StringBuilder sep = new StringBuilder();
    for (int w : width) {
      sep.append("-".repeat(w)).append("  ");
    }
    out.println(sep.toString().stripTrailing());
    for (String[] row : rows) {
      printRow(out, row, width);
    }
  }

  private static void printRow(PrintWriter out, String[] cells, int[] width) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < cells.length; i++) {
      b.append(String.format("%-" + width[i] + "s  ", cells[i]));
    }
    out.println(b.toString().stripTrailing());
  }
}
