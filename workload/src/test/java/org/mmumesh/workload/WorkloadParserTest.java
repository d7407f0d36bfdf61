package org.mmumesh.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WorkloadParserTest {
  @TempDir Path dir;

  @Test
  void identical_example_parsesEveryKey() {
    WorkloadSpec s =
        WorkloadParser.parse(
            "identical:vms=4,vcpus=1,pages=4096,image-distinct=0.3,ws=2048,read=0.95,"
                + "locality=zipf,zipf-s=0.9,accesses=200000,seed=42");
    assertThat(s.vms()).isEqualTo(4);
    assertThat(s.vcpusPerVm()).isEqualTo(1);
    assertThat(s.pagesPerVm()).isEqualTo(4096);
    assertThat(s.mmu()).isEqualTo(MmuKind.BOOK3S_64);
    assertThat(s.seed()).isEqualTo(42);
    assertThat(s.image()).contains(GuestImage.synthetic(4096, 0.3, 42));
    Drained d = Drained.of(s.sourceFor(3, 0), 4096);
    assertThat(d.size).isEqualTo(200_000);
    long[] h = d.pageHistogram(4096);
    for (int p = 2048; p < 4096; p++) {
      assertThat(h[p]).isZero();
    }
  }

  @Test
  void uniform_example_andDefaults() {
    WorkloadSpec s =
        WorkloadParser.parse("uniform:vms=2,pages=1024,read=0.8,accesses=100000,seed=7");
    assertThat(s.vms()).isEqualTo(2);
    assertThat(s.vcpusPerVm()).isEqualTo(1);
    assertThat(s.image()).isEmpty();
    assertThat(s.seed()).isEqualTo(7);
    assertThat(Drained.of(s.sourceFor(1, 0), 1000).size).isEqualTo(100_000);

    WorkloadSpec d = WorkloadParser.parse("uniform");
    assertThat(d.vms()).isEqualTo(1);
    assertThat(d.pagesPerVm()).isEqualTo(WorkloadParser.DEFAULT_PAGES);
    assertThat(d.seed()).isEqualTo(WorkloadParser.DEFAULT_SEED);
    assertThat(d.mmu()).isEqualTo(MmuKind.BOOK3S_64);
    assertThat(d.name())
        .isEqualTo(
            "uniform:vms=1,vcpus=1,pages=4096,mmu=64,seed=1,read=0.8,accesses=100000,ifetch=0.0");
  }

  @Test
  void mmu32_givesFourByteAccessesBelow4GiB() {
    WorkloadSpec s = WorkloadParser.parse("uniform:mmu=32,pages=983040,accesses=1000");
    assertThat(s.mmu()).isEqualTo(MmuKind.BOOK3S_32);
    Drained d = Drained.of(s.sourceFor(0, 0), 100);
    for (int i = 0; i < d.size; i++) {
      assertThat(d.sizes[i]).isEqualTo(4);
      assertThat(d.eas[i]).isLessThan(1L << 32);
    }
  }

  @Test
  void canonicalName_reparsesToTheSameWorkload() {
    WorkloadSpec s =
        WorkloadParser.parse(
            "identical:vms=3,pages=512,ws=100,locality=uniform,seed=9,accesses=3000,ifetch=0.1");
    WorkloadSpec again = WorkloadParser.parse(s.name());
    assertThat(again.name()).isEqualTo(s.name());
    assertThat(again.image()).isEqualTo(s.image());
    assertThat(Drained.of(again.sourceFor(2, 0), 64).sameAs(Drained.of(s.sourceFor(2, 0), 64)))
        .isTrue();
  }

  @Test
  void lackey_readsAndFoldsTheTrace() throws Exception {
    Path trace = dir.resolve("trace.txt");
    Files.copy(LackeyTraceTest.fixture(), trace);
    WorkloadSpec s = WorkloadParser.parse("lackey:path=" + trace + ",pages=4096");
    LackeyTrace t = LackeyTrace.read(trace);
    FoldedTrace ft = t.fold(AddressFolding.forGuest(MmuKind.BOOK3S_64, 4096));
    Drained d = Drained.of(s.sourceFor(0, 0), 500);
    assertThat(d.size).isEqualTo(ft.size());
    for (int i = 0; i < d.size; i++) {
      assertThat(d.eas[i]).isEqualTo(ft.ea(i));
    }
    assertThatThrownBy(() -> WorkloadParser.parse("lackey:path=" + trace + ",pages=2"))
        .hasMessageContaining("line")
        .hasMessageContaining("pages");
  }

  @Test
  void image_loadsTheDirectory_andDefaultsPagesToTheImageSize() throws IOException {
    Files.write(dir.resolve("a"), new byte[3 * 4096]);
    Files.write(dir.resolve("b"), new byte[] {1, 2, 3});
    WorkloadSpec s = WorkloadParser.parse("image:path=" + dir + ",vms=3,accesses=10");
    assertThat(s.vms()).isEqualTo(3);
    assertThat(s.pagesPerVm()).isEqualTo(4);
    assertThat(s.image().orElseThrow().pages()).isEqualTo(4);
    WorkloadSpec bigger = WorkloadParser.parse("image:path=" + dir + ",pages=100,ws=50");
    assertThat(bigger.pagesPerVm()).isEqualTo(100);
    assertThatThrownBy(() -> WorkloadParser.parse("image:path=" + dir + ",pages=3"))
        .hasMessageContaining(dir.toString())
        .hasMessageContaining("4 pages")
        .hasMessageContaining("limit of 3");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "bogus:vms=1                      | workload: 'bogus' | identical, uniform, lackey, image",
        "uniform:colour=red               | colour: unknown key | read, accesses, ifetch",
        "uniform:ws=10                    | ws: unknown key   | allowed keys",
        "uniform:vms=many                 | vms: 'many' is not a decimal integer | 1 to 65536",
        "uniform:vms=0                    | vms: 0 is out of range | 1 to 65536",
        "uniform:read=1.5                 | read: 1.5 is out of range | 0 to 1",
        "uniform:read=-0.1                | read: -0.1 is out of range | 0 to 1",
        "uniform:read=NaN                 | read: 'NaN' is not a finite number | read",
        "identical:pages=100,ws=101       | ws: 101 is out of range | 1 to 100",
        "identical:locality=zipfy         | locality: 'zipfy' | uniform or zipf",
        "identical:zipf-s=0               | zipf-s: 0 is out of range | greater than 0",
        "identical:image-distinct=2       | image-distinct: 2 | 0 to 1",
        "uniform:mmu=48                   | mmu: '48' | 32 or 64",
        "uniform:mmu=32,pages=983041      | pages: 983041 is out of range | 1 to 983040",
        "uniform:vcpus=1,vcpus=2          | vcpus: given more than once | once",
        "uniform:vms                      | 'vms' is not KEY=VALUE | KEY=VALUE",
        "uniform:vms=                     | vms: the value is empty | KEY=VALUE",
        "lackey:pages=10                  | path: missing | path=",
        "uniform:accesses=1e3             | accesses: '1e3' is not a decimal integer | 0 to",
        "lackey:path=/nonexistent/x.txt   | /nonexistent/x.txt | cannot be read",
        "image:path=/nonexistent/dir      | /nonexistent/dir | does not exist",
      })
  void parse_badInput_namesTheKeyAndTheAllowedValues(String text, String first, String second) {
    assertThatThrownBy(() -> WorkloadParser.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(first.strip())
        .hasMessageContaining(second.strip());
  }

  @Test
  void parse_emptyText_fails() {
    assertThatThrownBy(() -> WorkloadParser.parse("  ")).hasMessageContaining("workload");
  }

  @Test
  void help_mentionsEveryKindAndKey() {
    String help = WorkloadParser.help();
    for (String word :
        new String[] {
          "identical",
          "uniform",
          "lackey",
          "image",
          "vms=",
          "vcpus=",
          "pages=",
          "mmu=",
          "seed=",
          "read=",
          "accesses=",
          "ifetch=",
          "ws=",
          "locality=",
          "zipf-s=",
          "image-distinct=",
          "path=",
          "0x10000000"
        }) {
      assertThat(help).contains(word);
    }
  }
}
