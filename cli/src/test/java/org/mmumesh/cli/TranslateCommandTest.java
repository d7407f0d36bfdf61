package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TranslateCommandTest {

  @Test
  void demo_showsCSetOnALoadUnderLegacyOnly() {
    CliRun r = CliRun.of("translate");
    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .containsPattern("#1 +32-bit load from a read/write page.*legacy\\[[q0-9,]*\\] +OK +RC")
        .containsPattern("#1 +32-bit load from a read/write page.*fixed\\[[q0-9,]*\\] +OK +R-")
        .containsPattern("#6 +64-bit store to a read-only page.*strict\\[\\] +EPERM +R-")
        .contains("R/C: word1 0x00abc012 -> 0x00abc192 (R set, C set)");
  }

  @Test
  void customWalk_honoursQuirkOverrides() {
    CliRun r =
        CliRun.of(
            "translate",
            "--mmu",
            "32",
            "--ea",
            "0x00345678",
            "--pp",
            "0",
            "--pr",
            "--policy",
            "fixed",
            "--quirk",
            "q2=off");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("under fixed[q3,q4,q5,q7,q8]").contains("result: EPERM (-1)");
  }

  @Test
  void badInput_getsAMessageNamingTheField_andExitCode2() {
    assertThat(CliRun.of("translate", "--policy", "lenient").err())
        .contains("policy: 'lenient' is not a policy; allowed: legacy, fixed, strict");
    CliRun r = CliRun.of("translate", "--mmu", "32", "--ea", "0x1_0000");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--ea: '0x1_0000' is not an address");
    assertThat(CliRun.of("translate", "--mmu", "32", "--ea", "0x100000000").err())
        .contains("ea: 0x100000000 is out of range; allowed 0x0 to 0xffffffff");
    assertThat(CliRun.of("translate", "--quirk", "q2=maybe").err()).contains("allowed: on, off");
    assertThat(CliRun.of("translate", "--ea", "0x10", "--pp", "7").err())
        .contains("--pp: 7 is out of range; allowed 0 to 3");
  }
}
