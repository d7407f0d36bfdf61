package org.mmumesh.bench;

import java.util.concurrent.TimeUnit;
import org.mmumesh.common.Access;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.guestmmu.Cpu32State;
import org.mmumesh.guestmmu.Cpu64State;
import org.mmumesh.guestmmu.GuestHtab;
import org.mmumesh.guestmmu.Hash32Mmu;
import org.mmumesh.guestmmu.Hash64Mmu;
import org.mmumesh.guestmmu.XlateResult;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * xlate cost for the 32-bit and 64-bit guest MMUs: a primary-PTEG hit, a secondary-PTEG hit (the
 * primary group full of other entries) and a miss (both groups searched). {@code baseline} measures
 * the harness alone, so figures can be reported as ratios measured in the same run.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class XlateBenchmark {
  private static final long MEM = 64L << 20;
  private static final long EA32 = 0x00345678L;
  private static final long EA64 = 0x10005000L;

  private Hash32Mmu m32;
  private Cpu32State c32;
  private long ea32Secondary;
  private long ea32Miss;
  private Hash64Mmu m64;
  private Cpu64State c64;
  private long ea64Secondary;
  private long ea64Miss;

  @Setup
  public void setup() {
    m32 =
        new Hash32Mmu(
            GuestHtab.forSdr1Book3s32(0x00100003L, MEM), MmuOptions.defaults(Policy.FIXED));
    c32 = new Cpu32State().mtsrin(0, 0x20000123L).setMsr(true, true, true);
    m32.enter(c32, EA32, 0x00ABC012L);
    // Fill the primary group of another page with 8 entries for other pages, so its own entry
    // lands in the secondary group.
    ea32Secondary = 0x00346000L;
    fill32(ea32Secondary);
    m32.enter(c32, ea32Secondary, 0x00DEF012L);
    ea32Miss = 0x00347000L;

    m64 =
        new Hash64Mmu(
            GuestHtab.forSdr1Book3s64(0x01000000L, MEM), MmuOptions.defaults(Policy.FIXED));
    c64 = new Cpu64State().setSegment(0, 1, 0x1234, false, true).setMsr(true, true, true);
    m64.enter(c64, EA64, 0xAB012L);
    ea64Secondary = 0x10006000L;
    long pteg = m64.ptegAddr(c64.findSlbe(ea64Secondary), ea64Secondary, false);
    for (int i = 0; i < 8; i++) {
      m64.htab().setWord(pteg + 16L * i, 0x1L | (0x777L << 7) | ((long) i << 20));
    }
    m64.enter(c64, ea64Secondary, 0xCD012L);
    ea64Miss = 0x10007000L;
    check(m32.findPte(c32, EA32) == m32.ptegAddr(0x20000123, EA32, true), "32 primary");
    check(
        m32.findPte(c32, ea32Secondary) >= m32.ptegAddr(0x20000123, ea32Secondary, false)
            && m32.findPte(c32, ea32Secondary)
                < m32.ptegAddr(0x20000123, ea32Secondary, false) + 64,
        "32 secondary");
    check(m32.findPte(c32, ea32Miss) < 0, "32 miss");
    check(
        m64.findPte(c64, ea64Secondary)
            == m64.ptegAddr(c64.findSlbe(ea64Secondary), ea64Secondary, true),
        "64 secondary");
    check(m64.findPte(c64, ea64Miss) < 0 && m64.findPte(c64, EA64) >= 0, "64 miss/hit");
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException("benchmark setup is wrong: " + what);
    }
  }

  private void fill32(long ea) {
    long pteg = m32.ptegAddr(0x20000123, ea, true);
    for (int i = 0; i < 8; i++) {
      m32.htab().setWord(pteg + 8L * i, 0x80000000L | (0x7FL << 7) | i);
    }
  }

  @Benchmark
  public long baseline() {
    return c32.findSr(EA32);
  }

  @Benchmark
  public XlateResult xlate32PrimaryHit() {
    return m32.xlate(c32, EA32, Access.LOAD, true);
  }

  @Benchmark
  public XlateResult xlate32SecondaryHit() {
    return m32.xlate(c32, ea32Secondary, Access.LOAD, true);
  }

  @Benchmark
  public XlateResult xlate32Miss() {
    return m32.xlate(c32, ea32Miss, Access.LOAD, true);
  }

  @Benchmark
  public XlateResult xlate64PrimaryHit() {
    return m64.xlate(c64, EA64, Access.LOAD, true);
  }

  @Benchmark
  public XlateResult xlate64SecondaryHit() {
    return m64.xlate(c64, ea64Secondary, Access.LOAD, true);
  }

  @Benchmark
  public XlateResult xlate64Miss() {
    return m64.xlate(c64, ea64Miss, Access.LOAD, true);
  }
}
