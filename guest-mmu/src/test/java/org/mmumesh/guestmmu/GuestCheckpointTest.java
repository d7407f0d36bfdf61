package org.mmumesh.guestmmu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.mmumesh.checkpoint.CheckpointCompleteness;
import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.GuestKernelState;
import org.mmumesh.checkpoint.v1.GuestMmuState;
import org.mmumesh.checkpoint.v1.HtabChunk;
import org.mmumesh.checkpoint.v1.SlbSlot;
import org.mmumesh.common.Access;
import org.mmumesh.common.FaultBits;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;

/**
 * Issue 13: the guest MMU (HTAB words, registers, SDR1 per vCPU, SLB, BATs) and the guest kernel
 * model checkpoint and restore exactly: round trip, continuation after a cut, a completeness guard
 * over every field, and bad states refused with nothing changed.
 */
class GuestCheckpointTest {
  private static final long BASE = 0x10000000L;
  private static final long MEM = 64L << 20;

  /** One VM's guest MMU and kernel model, driven by seeded random operations; outputs recorded. */
  private static final class Rig {
    final boolean is64;
    final GuestMmuPort port;
    final GuestKernel kernel;
    final List<String> out = new ArrayList<>();

    Rig(boolean is64, int vcpus, Policy policy) {
      this.is64 = is64;
      MmuOptions o = MmuOptions.defaults(policy);
      port =
          is64
              ? new Guest64(GuestHtab.forSdr1Book3s64(0x01000000L, MEM), o, vcpus)
              : new Guest32(GuestHtab.forSdr1Book3s32(0x00100003L, MEM), o, vcpus);
      kernel =
          new GuestKernel(
              port,
              BASE,
              1 << 16,
              2,
              ProtectionPolicy.UPGRADE,
              e -> out.add("event " + e),
              f -> out.add("flush " + f));
    }

    /** A fresh rig of the same configuration with {@code from}'s state restored. */
    static Rig restoredFrom(Rig from, int vcpus, Policy policy) {
      Rig r = new Rig(from.is64, vcpus, policy);
      r.port.restore(from.port.checkpoint());
      r.kernel.restore(from.kernel.checkpoint());
      return r;
    }

    /** One operation drawn from {@code stepSeed}; what it answered goes to {@link #out}. */
    void step(long stepSeed) {
      Random rnd = new Random(stepSeed);
      int v = rnd.nextInt(port.vcpus());
      // pages colliding in few PTEGs, so evictions and secondary PTEGs are exercised
      long ea = BASE + ((rnd.nextInt(16) * 4096L + rnd.nextInt(8)) << 12) + rnd.nextInt(512) * 8;
      int op = rnd.nextInt(20);
      if (op < 12) {
        Access a = Access.values()[rnd.nextInt(2)]; // loads and stores
        XlateResult r = port.xlate(v, ea, a, true);
        out.add("xlate " + r.status() + " " + r.rcBefore() + " " + r.rcAfter());
        if (r.status() == XlateStatus.EINVAL) {
          out.add("handle " + kernel.handle(v, FaultBits.VEC_DSEG, 0, 0, ea));
        } else if (r.status() == XlateStatus.ENOENT) {
          out.add("handle " + kernel.handle(v, FaultBits.VEC_DSI, FaultBits.DSISR_NOHPTE, 0, ea));
        } else if (r.status() == XlateStatus.EPERM) {
          out.add(
              "handle " + kernel.handle(v, FaultBits.VEC_DSI, FaultBits.DSISR_PROTFAULT, 0, ea));
        }
      } else if (op == 12) {
        out.add("sdr1 " + v);
        long alt = is64 ? 0x02000000L : 0x00200003L;
        long boot = is64 ? 0x01000000L : 0x00100003L;
        port.setSdr1(v, port.htab(v).sdr1() == boot ? alt : boot);
      } else if (op == 13) {
        if (port.findPte(v, ea) >= 0
            || !is64
            || port.cpu(v) instanceof Cpu64State c && c.findSlbe(ea) != null) {
          out.add("remove " + kernel.remove(v, ea));
        }
      } else if (op == 14) {
        long pte = port.findPte(v, ea);
        out.add("clearRc " + (pte < 0 ? "none" : Arrays.toString(port.clearRc(pte, true, true))));
      } else if (op == 15 && is64) {
        Cpu64State c = (Cpu64State) port.cpu(v);
        if (rnd.nextBoolean()) {
          c.slbie(ea);
          out.add("slbie");
        } else {
          out.add("loadSegment " + port.loadSegment(v, ea));
        }
      } else if (op == 15) {
        Cpu32State c = (Cpu32State) port.cpu(v);
        int i = rnd.nextInt(8);
        c.setBat(rnd.nextBoolean(), i, rnd.nextBoolean() ? 0 : (0x20000000L | 0x3), 0x00800002L);
        out.add("bat " + i);
      } else if (op == 16) {
        long pte = port.findPte(v, ea);
        if (pte >= 0) {
          port.setPp(pte, rnd.nextInt(4));
          out.add("setPp");
        }
      } else if (op == 17) {
        out.add("vsid " + port.esidToVsid(v, ea >>> 28));
      } else {
        boolean s = is64 && port.cpu(v) instanceof Cpu64State c && c.findSlbe(ea) == null;
        if (!s) {
          out.add("enter " + kernel.enter(v, ea, rnd.nextInt(1 << 16), rnd.nextInt(4)));
        }
      }
    }

    /** Dumps through the cores' own read API (independent of checkpoint()). */
    List<String> dump() {
      List<String> d = new ArrayList<>();
      port.htab().forEachNonZeroWord((a, w) -> d.add(Long.toHexString(a) + "=" + w));
      d.add("writes " + port.htab().writes());
      for (int v = 0; v < port.vcpus(); v++) {
        CpuState c = port.cpu(v);
        d.add(v + " msr " + c.msrPr() + c.msrIr() + c.msrDr() + " mp " + c.magicPageEa());
        d.add(v + " sdr1 " + port.htab(v).sdr1() + " mode " + port.mode(v));
        if (c instanceof Cpu32State c32) {
          for (int i = 0; i < 16; i++) {
            d.add(v + " sr " + c32.sr(i));
          }
          for (int i = 0; i < 8; i++) {
            d.add(v + " bat " + c32.bat(true, i) + c32.bat(false, i));
          }
        } else {
          Cpu64State c64 = (Cpu64State) c;
          for (int i = 0; i < c64.slbNr(); i++) {
            d.add(v + " slb " + c64.slb(i));
          }
        }
      }
      d.add("lastFailure " + kernel.lastFailure());
      return d;
    }
  }

  @Test
  void roundTrip_restoredCopy_hasEqualCheckpointAndDumps_32And64BitOneAndTwoVcpus() {
    for (boolean is64 : new boolean[] {false, true}) {
      for (int vcpus = 1; vcpus <= 2; vcpus++) {
        Rig a = new Rig(is64, vcpus, Policy.FIXED);
        Random rnd = new Random(42 + vcpus);
        for (int i = 0; i < 3000; i++) {
          a.step(rnd.nextLong());
        }
        assertThat(a.out).anyMatch(s -> s.equals("event EVICTION")); // the cursor moved
        Rig b = Rig.restoredFrom(a, vcpus, Policy.FIXED);
        assertThat(b.port.checkpoint()).isEqualTo(a.port.checkpoint());
        assertThat(b.kernel.checkpoint()).isEqualTo(a.kernel.checkpoint());
        assertThat(b.dump()).isEqualTo(a.dump());
        assertThat(a.port.checkpoint().getHtabChunksCount()).isPositive();
      }
    }
  }

  @Test
  void checkpoint_isPure_twoCallsEqual_andNoWordWritten() {
    Rig a = new Rig(true, 2, Policy.STRICT);
    Random rnd = new Random(7);
    for (int i = 0; i < 500; i++) {
      a.step(rnd.nextLong());
    }
    long writes = a.port.htab().writes();
    List<String> dump = a.dump();
    assertThat(a.port.checkpoint()).isEqualTo(a.port.checkpoint());
    assertThat(a.port.htab().writes()).isEqualTo(writes);
    assertThat(a.dump()).isEqualTo(dump);
  }

  /**
   * Continuation: run a seeded sequence, cut at a random point, restore a copy, run the same rest
   * on both: every output and the final checkpoints agree (a state left out would diverge).
   */
  @Property(tries = 40)
  void continuation_afterRestore_matchesTheUninterruptedCore(
      @ForAll long seed,
      @ForAll @IntRange(min = 0, max = 1500) int cut,
      @ForAll boolean is64,
      @ForAll @IntRange(min = 1, max = 2) int vcpus) {
    Policy policy = Policy.values()[(int) Math.floorMod(seed, Policy.values().length)];
    Rig a = new Rig(is64, vcpus, policy);
    long[] steps = new Random(seed).longs(cut + 1500).toArray();
    for (int i = 0; i < cut; i++) {
      a.step(steps[i]);
    }
    Rig b = Rig.restoredFrom(a, vcpus, policy);
    int before = a.out.size();
    for (int i = cut; i < steps.length; i++) {
      a.step(steps[i]);
      b.step(steps[i]);
    }
    assertThat(b.out).isEqualTo(a.out.subList(before, a.out.size()));
    assertThat(b.port.checkpoint()).isEqualTo(a.port.checkpoint());
    assertThat(b.kernel.checkpoint()).isEqualTo(a.kernel.checkpoint());
    assertThat(b.dump()).isEqualTo(a.dump());
  }

  @Test
  void restore_refusesAnotherKindSizeOrVcpuCount_namingTheField_andChangesNothing() {
    Rig a = new Rig(true, 2, Policy.STRICT);
    Random rnd = new Random(3);
    for (int i = 0; i < 300; i++) {
      a.step(rnd.nextLong());
    }
    GuestMmuState s = a.port.checkpoint();
    Rig other32 = new Rig(false, 2, Policy.STRICT);
    GuestMmuState before = other32.port.checkpoint();
    assertThatThrownBy(() -> other32.port.restore(s))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageContaining("mmu_kind");
    assertThat(other32.port.checkpoint()).isEqualTo(before);
    Rig one = new Rig(true, 1, Policy.STRICT);
    assertThatThrownBy(() -> one.port.restore(s))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageContaining("vcpus (count): the checkpoint has 2 but the restoring core has 1");
  }

  @Test
  void restore_refusesInconsistentStates_namingFieldAndRange_andChangesNothing() {
    Rig a = new Rig(true, 1, Policy.STRICT);
    Random rnd = new Random(5);
    for (int i = 0; i < 300; i++) {
      a.step(rnd.nextLong());
    }
    GuestMmuState s = a.port.checkpoint();
    Map<String, GuestMmuState> bad =
        Map.of(
            "htab_chunks[0].guest_real_addr",
            s.toBuilder()
                .setHtabChunks(0, s.getHtabChunks(0).toBuilder().setGuestRealAddr(8))
                .build(),
            "htab_chunks[0].words_le",
            s.toBuilder()
                .setHtabChunks(
                    0, s.getHtabChunks(0).toBuilder().setWordsLe(ByteString.copyFrom(new byte[12])))
                .build(),
            "vcpus[0].slb[0].index",
            s.toBuilder()
                .setVcpus(
                    0,
                    s.getVcpus(0).toBuilder().setSlb(0, SlbSlot.newBuilder().setIndex(64).build()))
                .build(),
            "vcpus[0].next_slb_index",
            s.toBuilder().setVcpus(0, s.getVcpus(0).toBuilder().setNextSlbIndex(99)).build(),
            "vcpus[0].sdr1",
            s.toBuilder().setVcpus(0, s.getVcpus(0).toBuilder().setSdr1(0)).build());
    for (Map.Entry<String, GuestMmuState> e : bad.entrySet()) {
      Rig fresh = new Rig(true, 1, Policy.STRICT);
      GuestMmuState before = fresh.port.checkpoint();
      assertThatThrownBy(() -> fresh.port.restore(e.getValue()))
          .as(e.getKey())
          .isInstanceOf(CheckpointMismatchException.class)
          .hasMessageStartingWith(e.getKey());
      assertThat(fresh.port.checkpoint()).as(e.getKey()).isEqualTo(before);
    }
    Rig k = new Rig(true, 1, Policy.STRICT);
    GuestKernelState ks = a.kernel.checkpoint();
    GuestKernelState before = k.kernel.checkpoint();
    assertThatThrownBy(() -> k.kernel.restore(ks.toBuilder().addHpteGuestRealAddrs(1).build()))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageStartingWith("hpte_effective_addrs");
    assertThatThrownBy(() -> k.kernel.restore(ks.toBuilder().setGuestPp(3).build()))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageContaining("guest_pp: the checkpoint has 3 but the restoring core has 2");
    assertThat(k.kernel.checkpoint()).isEqualTo(before);
    assertThat(HtabChunk.getDefaultInstance().getWordsLe().size()).isZero();
  }

  /**
   * The completeness guard: every instance field of a checkpointed class is either written by
   * checkpoint() or listed here as derived or constant, with the reason. A field added later
   * without checkpoint support fails this test.
   */
  @Test
  void everyField_isCheckpointed_orListedAsDerivedOrConstant() {
    Map<Class<?>, Set<String>> written =
        Map.ofEntries(
            Map.entry(
                CpuState.class, Set.of("msrPr", "msrIr", "msrDr", "magicPageEa", "magicPagePa")),
            Map.entry(Cpu32State.class, Set.of("sr", "ibat", "dbat")),
            Map.entry(Cpu64State.class, Set.of("slb", "multiPageSize")),
            Map.entry(HashGuest.class, Set.of("cpus", "bootSdr1")),
            // mmus: each vCPU's table, written as its SDR1 (the instances are stateless views)
            Map.entry(VcpuTables.class, Set.of("mmus")),
            Map.entry(Guest64.class, Set.of("nextSlb")),
            Map.entry(GuestHtab.class, Set.of("memory", "sdr1")),
            Map.entry(memoryClass(), Set.of("regions", "writes", "bytes", "wordBytes")),
            Map.entry(
                GuestKernel.class,
                Set.of(
                    "pteToEa",
                    "evictCursor",
                    "lastFailure",
                    "windowBase",
                    "windowPages",
                    "pp",
                    "protection")),
            Map.entry(Hash32Mmu.class, Set.of("htab")),
            Map.entry(Hash64Mmu.class, Set.of("htab")),
            Map.entry(XlateRules.class, Set.of()));
    Map<Class<?>, Set<String>> derived =
        Map.ofEntries(
            Map.entry(CpuState.class, Set.of()),
            Map.entry(Cpu32State.class, Set.of()),
            Map.entry(Cpu64State.class, Set.of()),
            // mmus: built from the vCPUs and rebuilt by restore; bits: constant per kind
            Map.entry(HashGuest.class, Set.of("mmus", "bits")),
            // create/htabOf: constant functions; tables: the distinct instances of mmus
            Map.entry(VcpuTables.class, Set.of("create", "htabOf", "tables")),
            Map.entry(Guest64.class, Set.of()),
            // origin, sizeBytes: functions of sdr1
            Map.entry(GuestHtab.class, Set.of("origin", "sizeBytes")),
            // shifts and mask: functions of wordBytes; lastKey/lastRegion: a lookup cache
            Map.entry(
                memoryClass(),
                Set.of("wordShift", "chunkShift", "chunkMask", "lastKey", "lastRegion")),
            // mmu, events, flushSink: collaborators given at construction
            Map.entry(GuestKernel.class, Set.of("mmu", "events", "flushSink")),
            // options (engine configuration, checked there), q2/q3/rules: functions of options
            Map.entry(Hash32Mmu.class, Set.of("options", "rules", "q2", "q3")),
            Map.entry(Hash64Mmu.class, Set.of("options", "rules", "host64kPages")),
            // legacy/rcLost: functions of the options
            Map.entry(XlateRules.class, Set.of("legacy", "rcLost")));
    CheckpointCompleteness.assertEveryFieldListed(written, derived);
  }

  private static Class<?> memoryClass() {
    for (Class<?> c : GuestHtab.class.getDeclaredClasses()) {
      if (c.getSimpleName().equals("Memory")) {
        return c;
      }
    }
    throw new AssertionError("GuestHtab.Memory not found");
  }
}
