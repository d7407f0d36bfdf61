package org.mmumesh.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mmumesh.common.Access;

class LackeyTraceTest {
  static final Pattern RECORD = Pattern.compile("^(I | [LSM]) ([0-9a-f]+),([0-9]+)$");

  static Path fixture() throws URISyntaxException {
    return Path.of(LackeyTraceTest.class.getResource("/lackey/tiny-head.lackey.txt").toURI());
  }

  @Test
  void read_realValgrindTrace_matchesAnIndependentLineByLineReading() throws Exception {
    List<String> lines = Files.readAllLines(fixture());
    LackeyTrace t = LackeyTrace.read(fixture());
    int i = 0;
    int records = 0;
    int modifies = 0;
    for (int ln = 0; ln < lines.size(); ln++) {
      String line = lines.get(ln);
      if (line.startsWith("==")) {
        continue;
      }
      Matcher m = RECORD.matcher(line);
      assertThat(m.matches()).as("fixture line %d: %s", ln + 1, line).isTrue();
      records++;
      long addr = Long.parseUnsignedLong(m.group(2), 16);
      int size = Integer.parseInt(m.group(3));
      String k = m.group(1).strip();
      Access[] expect =
          switch (k) {
            case "I" -> new Access[] {Access.IFETCH};
            case "L" -> new Access[] {Access.LOAD};
            case "S" -> new Access[] {Access.STORE};
            default -> new Access[] {Access.LOAD, Access.STORE};
          };
      if (k.equals("M")) {
        modifies++;
      }
      for (Access a : expect) {
        assertThat(t.kind(i)).isEqualTo(a);
        assertThat(t.address(i)).isEqualTo(addr);
        assertThat(t.sizeBytes(i)).isEqualTo(size);
        assertThat(t.lineNumber(i)).isEqualTo(ln + 1);
        i++;
      }
    }
    assertThat(t.size()).isEqualTo(i);
    assertThat(records).isGreaterThan(2500);
    assertThat(modifies).isPositive();
    assertThat(t.sourceName()).isEqualTo(fixture().toString());
  }

  @Test
  void parse_skipsMessagesAndBlankLines_andToleratesCrLf() {
    LackeyTrace t =
        LackeyTrace.parse(
            "==1== Lackey\r\n--1-- debug\n**1** warn\n\nI  0401ab70,3\r\n L 1fff000778,8  \n",
            "mem");
    assertThat(t.size()).isEqualTo(2);
    assertThat(t.kind(0)).isEqualTo(Access.IFETCH);
    assertThat(t.address(0)).isEqualTo(0x0401ab70L);
    assertThat(t.lineNumber(1)).isEqualTo(6);
    assertThat(t.address(1)).isEqualTo(0x1fff000778L);
  }

  @Test
  void parse_modify_isALoadThenAStoreOfTheSameAddress() {
    LackeyTrace t = LackeyTrace.parse(" M ffffffffffff0000,16\n", "mem");
    assertThat(t.size()).isEqualTo(2);
    assertThat(t.kind(0)).isEqualTo(Access.LOAD);
    assertThat(t.kind(1)).isEqualTo(Access.STORE);
    assertThat(t.address(1)).isEqualTo(0xffffffffffff0000L).isEqualTo(t.address(0));
    assertThat(t.sizeBytes(1)).isEqualTo(16);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "X  0401ab70,3", // unknown record kind
        "I 0401ab70,3", // one space after I
        "L 1fff000778,8", // data record without the leading space
        " Q 1fff000778,8", // unknown data kind
        " L1fff000778,8", // missing space after kind
        " L 1fff000778", // no comma
        " L ,8", // empty address
        " L 0x1fff000778,8", // 0x prefix is not Lackey's
        " L 1fff00077g,8", // bad hex digit
        " L 12345678901234567,8", // 17 hex digits: more than 64 bits
        " L 1fff000778,", // empty size
        " L 1fff000778,0", // zero size
        " L 1fff000778,4097", // size over a page
        " L 1fff000778,8x", // junk after the size
        " L 1fff000778,-8", // negative size
        " S ffffffffffffffff,8", // runs past 2^64
        "I", // truncated
        "=", // a lone '='
      })
  void parse_malformedLine_failsNamingLineNumberTextAndExpectation_beforeReturningAnything(
      String bad) {
    String text = "==7== header\nI  0401ab70,3\n S 1fff000778,8\n" + bad + "\n L 10,4\n";
    assertThatThrownBy(() -> LackeyTrace.parse(text, "t.txt"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("t.txt line 4:")
        .hasMessageContaining("\"" + bad + "\"")
        .hasMessageContaining("expected");
  }

  @Test
  void read_missingFile_failsNamingThePath(@org.junit.jupiter.api.io.TempDir Path dir) {
    Path p = dir.resolve("none.txt");
    assertThatThrownBy(() -> LackeyTrace.read(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(p.toString());
  }

  @Test
  void read_fileWithMalformedLine_failsWithItsPathAndLine(
      @org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
    Path p = dir.resolve("bad.txt");
    Files.writeString(p, "I  0401ab70,3\nI  0401ab73\n");
    assertThatThrownBy(() -> LackeyTrace.read(p))
        .hasMessageContaining(p + " line 2")
        .hasMessageContaining("I  0401ab73");
  }
}
