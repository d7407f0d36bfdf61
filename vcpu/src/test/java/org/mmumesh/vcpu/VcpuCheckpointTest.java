package org.mmumesh.vcpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
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
import org.mmumesh.checkpoint.v1.CBitWatchState;
import org.mmumesh.checkpoint.v1.TlbState;
import org.mmumesh.checkpoint.v1.VcpuCoreState;
import org.mmumesh.common.Access;
import org.mmumesh.common.Counts;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.common.VsidTags;
import org.mmumesh.guestmmu.Cpu64State;
import org.mmumesh.hostmmu.Lookup;
import org.mmumesh.pageframe.PfnResult;
import org.mmumesh.pageframe.PfnStatus;

/**
 * Issue 13: a vCPU's access-path core (counters, mode, TLB entries), its C-bit watch and the
 * livelock bound checkpoint and restore exactly: round trip, continuation after a cut at a barrier,
 * refusal mid-fault, bad states refused, and a completeness guard over every field.
 */
class VcpuCheckpointTest {
  private static final long BASE = 0x10000000L;

  /** One vCPU core driven through whole accesses by seeded answers; every answer recorded. */
  private static final class Rig {
    final Policy policy;
    final CBitWatch watch = new CBitWatch();
    final VcpuCore core;
    final Cpu64State cpu = new Cpu64State().setMsr(false, false, false); // real mode
    final List<String> out = new ArrayList<>();
    long epoch;

    Rig(Policy policy) {
      this.policy = policy;
      core =
          new VcpuCore(
              new Tlb(256),
              watch,
              new PageFaultHandler(MmuOptions.defaults(policy)),
              4,
              Counts.zero());
    }

    static Rig restoredFrom(Rig a) {
      Rig b = new Rig(a.policy);
      b.core.restore(a.core.checkpoint(a.epoch));
      b.watch.restore(a.watch.checkpoint());
      b.epoch = a.epoch;
      return b;
    }

    /** One whole access (a barrier before and after), its host answers drawn from the seed. */
    void step(long seed) {
      Random r = new Random(seed);
      if (r.nextInt(40) == 0) {
        epoch++; // some host HPTE of the VM was invalidated
      }
      if (r.nextInt(60) == 0) {
        core.setMode(r.nextInt(8));
      }
      Access kind = Access.values()[r.nextInt(3)];
      long ea = BASE + ((long) r.nextInt(48) << 12) + r.nextInt(512) * 8L;
      Need need = core.begin(kind, ea, epoch);
      for (int guard = 0; guard < 20; guard++) {
        out.add(String.valueOf(need));
        if (need instanceof Need.Hit h) {
          if (h.readC()) {
            core.onCRead(r.nextBoolean(), r.nextBoolean(), epoch);
          }
          return;
        } else if (need instanceof Need.SegmentVsid s) {
          need = core.onVsid(r.nextInt(10) == 0 ? VsidTags.NO_VSID : 0x100 + s.esid());
        } else if (need instanceof Need.HostLookup) {
          int slot = r.nextInt(3) == 0 ? -1 : r.nextInt(2000);
          need = core.onLookup(slot, Lookup.values()[r.nextInt(4)], r.nextInt(5000), epoch);
        } else if (need instanceof Need.Fault f) {
          String livelock = core.admit(false);
          if (livelock != null) {
            out.add(core.fail(0, 0, livelock));
            return;
          }
          FaultStep st = core.onFault(f.fault(), cpu);
          while (!st.terminal()) {
            out.add(String.valueOf(st));
            if (st instanceof FaultStep.Xlate) {
              st = core.onXlated(null, 0x100 + (ea >>> 28));
            } else if (st instanceof FaultStep.GfnToPfn g) {
              st =
                  core.onPfn(
                      r.nextInt(12) == 0
                          ? PfnResult.error(PfnStatus.values()[1 + r.nextInt(2)], 5)
                          : new PfnResult(PfnStatus.OK, r.nextInt(5000), r.nextBoolean(), 5));
            } else if (st instanceof FaultStep.UnmapPage) {
              st = core.onUnmapped();
            } else if (st instanceof FaultStep.MapPage m) {
              st =
                  core.onMapped(
                      r.nextInt(8) != 0, !m.writable() || r.nextInt(4) == 0, r.nextBoolean(), ea);
            }
          }
          out.add(String.valueOf(st));
          if (!(st instanceof FaultStep.Resume)) {
            if (st instanceof FaultStep.Failed fl) {
              out.add(core.fail(0, 0, fl.cause()));
            }
            return;
          }
          need = core.miss();
        }
      }
    }

    /** The core's state through its own read API (independent of checkpoint()). */
    List<String> dump() {
      List<String> d = new ArrayList<>();
      d.add(core.counts().toString());
      for (int mode = 0; mode < 8; mode++) {
        for (int p = 0; p < 48; p++) {
          long ea = BASE + ((long) p << 12);
          int t = core.tlb().lookup(Tlb.tag(ea, mode), epoch);
          d.add(
              t < 0
                  ? "-"
                  : t
                      + ":"
                      + core.tlb().slot(t)
                      + ":"
                      + core.tlb().pfn(t)
                      + ":"
                      + core.tlb().prot(t));
          d.add("w" + watch.watches(ea));
        }
      }
      d.add("watched " + watch.size());
      return d;
    }
  }

  @Test
  void roundTrip_restoredCopy_hasEqualCheckpointsAndDumps_underEveryPolicy() {
    for (Policy p : Policy.values()) {
      Rig a = new Rig(p);
      Random rnd = new Random(11);
      for (int i = 0; i < 4000; i++) {
        a.step(rnd.nextLong());
      }
      VcpuCoreState s = a.core.checkpoint(a.epoch);
      assertThat(s.getTlb().getEntryIndexesCount()).as("live TLB entries").isPositive();
      if (p != Policy.STRICT) { // Q4 (writable maps on loads) starts watches; strict has none
        assertThat(a.watch.size()).as("watched pages").isPositive();
      }
      Rig b = Rig.restoredFrom(a);
      assertThat(b.core.checkpoint(b.epoch)).isEqualTo(s);
      assertThat(b.watch.checkpoint()).isEqualTo(a.watch.checkpoint());
      assertThat(b.dump()).isEqualTo(a.dump());
      assertThat(b.core.checkpoint(b.epoch)).as("after use, still equal").isEqualTo(s);
    }
  }

  /** Continuation: the same remaining accesses give the same answers and the same final state. */
  @Property(tries = 40)
  void continuation_afterRestore_matchesTheUninterruptedCore(
      @ForAll long seed, @ForAll @IntRange(min = 0, max = 2000) int cut) {
    Policy policy = Policy.values()[(int) Math.floorMod(seed, Policy.values().length)];
    long[] steps = new Random(seed).longs(cut + 2000).toArray();
    Rig a = new Rig(policy);
    for (int i = 0; i < cut; i++) {
      a.step(steps[i]);
    }
    Rig b = Rig.restoredFrom(a);
    int before = a.out.size();
    for (int i = cut; i < steps.length; i++) {
      a.step(steps[i]);
      b.step(steps[i]);
    }
    assertThat(b.out).isEqualTo(a.out.subList(before, a.out.size()));
    assertThat(b.core.checkpoint(b.epoch)).isEqualTo(a.core.checkpoint(a.epoch));
    assertThat(b.watch.checkpoint()).isEqualTo(a.watch.checkpoint());
    assertThat(b.dump()).isEqualTo(a.dump());
  }

  @Test
  void checkpoint_midFault_isRefused_namingTheBarrier() {
    Rig a = new Rig(Policy.STRICT);
    Need n = a.core.begin(Access.LOAD, BASE, 0);
    n = a.core.onVsid(0x101);
    n = a.core.onLookup(-1, null, -1, 0);
    a.core.admit(false);
    a.core.onFault(((Need.Fault) n).fault(), a.cpu);
    assertThatThrownBy(() -> a.core.checkpoint(0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("lockstep barrier");
  }

  @Test
  void restore_refusesBadStates_namingTheField_andChangesNothing() {
    Rig a = new Rig(Policy.FIXED);
    Random rnd = new Random(2);
    for (int i = 0; i < 1000; i++) {
      a.step(rnd.nextLong());
    }
    VcpuCoreState s = a.core.checkpoint(a.epoch);
    TlbState t = s.getTlb();
    Map<String, VcpuCoreState> bad =
        Map.of(
            "tlb.size_entries",
            s.toBuilder().setTlb(t.toBuilder().setSizeEntries(512)).build(),
            "tlb.pfns",
            s.toBuilder().setTlb(t.toBuilder().addPfns(1)).build(),
            "tlb.entry_indexes[0]",
            s.toBuilder()
                .setTlb(t.toBuilder().setEntryIndexes(0, (t.getEntryIndexes(0) + 1) % 256))
                .build(),
            "tlb.prots[0]",
            s.toBuilder().setTlb(t.toBuilder().setProts(0, 8)).build(),
            "counters (count)",
            s.toBuilder().addCounters(1).build(),
            "max_faults_per_access",
            s.toBuilder().setMaxFaultsPerAccess(5).build(),
            "mode",
            s.toBuilder().setMode(8).build());
    for (Map.Entry<String, VcpuCoreState> e : bad.entrySet()) {
      Rig fresh = new Rig(Policy.FIXED);
      VcpuCoreState before = fresh.core.checkpoint(0);
      assertThatThrownBy(() -> fresh.core.restore(e.getValue()))
          .as(e.getKey())
          .isInstanceOf(CheckpointMismatchException.class)
          .hasMessageStartingWith(e.getKey());
      assertThat(fresh.core.checkpoint(0)).as(e.getKey()).isEqualTo(before);
    }
    CBitWatch w = new CBitWatch();
    assertThatThrownBy(
            () ->
                w.restore(
                    CBitWatchState.newBuilder().addWatchedPages(5).addWatchedPages(5).build()))
        .isInstanceOf(CheckpointMismatchException.class)
        .hasMessageStartingWith("watched_pages[1]");
    assertThat(w.size()).isZero();
  }

  /**
   * The completeness guard: every instance field of a checkpointed class is either written by
   * checkpoint() or listed here as derived, constant or dead at a barrier, with the reason.
   */
  @Test
  void everyField_isCheckpointed_orListedAsDerivedOrConstant() {
    Map<Class<?>, Set<String>> written =
        Map.of(
            VcpuCore.class, Set.of("counts", "tlb", "mode", "livelock"),
            Tlb.class, Set.of("entries", "tags", "epochs", "slots", "prots", "pfns", "parked"),
            CBitWatch.class, Set.of("pages"),
            LivelockBound.class, Set.of("maxFaults"),
            PageFaultHandler.class, Set.of("state")); // written as "IDLE" (refused otherwise)
    Map<Class<?>, Set<String>> notWritten =
        Map.of(
            // cWatch: its owner's (the VM's in the engine); handler: idle at a barrier (below);
            // the access in progress: set afresh by begin(), dead at a barrier; hit, segmentVsid,
            // hostLookup, faultNeed: the reusable answers (one per Need kind), refilled by every
            // call that returns them, so they carry nothing from one access to the next
            VcpuCore.class,
            Set.of(
                "cWatch",
                "handler",
                "kind",
                "ea",
                "tag",
                "fault",
                "xlateAccess",
                "xlateCAfter",
                "hit",
                "segmentVsid",
                "hostLookup",
                "faultNeed"),
            // mask: a function of entries
            Tlb.class,
            Set.of("mask"),
            CBitWatch.class,
            Set.of(),
            // the access in progress's counts: reset by startAccess() at every miss
            LivelockBound.class,
            Set.of("faults", "forced"),
            // policy flags: functions of the options; the rest: the fault in flight (none)
            PageFaultHandler.class,
            Set.of(
                "legacy",
                "q4",
                "q7",
                "guard",
                "fault",
                "iswrite",
                "relocated",
                "msrIr",
                "msrDr",
                "pte",
                "gvsid",
                "cAfter",
                "pfn"));
    CheckpointCompleteness.assertEveryFieldListed(written, notWritten);
  }
}
