package org.mmumesh.vcpu.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmumesh.vcpu.actor.FlowMesh.ea;
import static org.mmumesh.vcpu.actor.FlowMesh.load;

import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Counts;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.guestmmu.Guest64;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.actor.HostMmu;

/**
 * {@code mtspr SDR1} through a vCPU ({@link Vcpu.SetState} with {@link VcpuStateChange.SetSdr1})
 * over the real GuestMmu, HostMmu and PageFrame actors: as {@code kvmppc_core_emulate_mtspr_pr}
 * does, every shadow PTE of the vCPU is flushed ({@code kvmppc_mmu_pte_flush(vcpu, 0, 0)}), so an
 * address that had a host HPTE takes a NOHPTE exit, and the guest xlate then searches the table the
 * new SDR1 names.
 *
 * <p>FlowMesh's guest memory is 512 KiB with the 256 KiB HTAB at 256 KiB (SDR1 0x40000); the only
 * other 64-bit table that fits is 512 KiB at 0 (SDR1 1: HTABSIZE 1; SDR1 0 is refused). It overlaps
 * the old one, but the test page's PTEG differs: VSID 0x1101 (ESID 1) ^ page 5 = hash 0x1104, whose
 * bit 11 is clear, so the old table's PTEG is 0x40000 + (0x104 << 7) = 0x48200 and the new one's
 * 0x104 << 7 = 0x8200.
 */
class VcpuSdr1Test {
  private static final ActorTestKit kit = ActorTestKit.create(ConfigFactory.load());

  private static final long A = 0x5EED_0000_0000_00A1L;
  private static final long NEW_SDR1 = 0x1L;
  private static final long OLD_PTEG = 0x48200L;
  private static final long NEW_PTEG = 0x8200L;

  private FlowMesh mesh;

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  @AfterEach
  void stopMesh() {
    if (mesh != null) {
      assertThat(mesh.frameInvariantViolations()).isEmpty();
      assertThat(mesh.hostInvariantViolations(0)).isEmpty();
      mesh.stop();
    }
  }

  private Vcpu.StateSet setSdr1(long id, long sdr1) {
    TestProbe<Vcpu.StateReply> st = kit.createTestProbe();
    mesh.vm(0)
        .vcpu
        .tell(new Vcpu.SetState(id, List.of(new VcpuStateChange.SetSdr1(sdr1)), st.getRef()));
    return st.expectMessageClass(Vcpu.StateSet.class);
  }

  private List<Long> htabWords() {
    TestProbe<GuestMmu.HtabReply> r = kit.createTestProbe();
    mesh.vm(0).guest.tell(new GuestMmu.DumpHtab(1, r.getRef()));
    long[] a = r.expectMessageClass(GuestMmu.HtabDumped.class).addrs();
    return java.util.Arrays.stream(a).boxed().toList();
  }

  @Test
  void sdr1Change_flushesTheVcpusShadowPtes_nohpteExit_thenXlateSearchesTheNewTable() {
    assertThat((Guest64.vsidOf(1) ^ 5) & 0x800).isZero(); // the PTEGs differ (class comment)
    FlowMesh m = mesh = new FlowMesh(kit, MmuOptions.defaults(Policy.STRICT), 1, 2);
    m.populate(0, 5, A);
    Vcpu.BatchDone first = m.run(0, load(ea(5, 0x10)));
    assertThat(first.completed()).isEqualTo(1);
    Vcpu.BatchDone hit = m.run(0, load(ea(5, 0x18)));
    assertThat(hit.counters().get(Counter.NOHPTE_EXITS))
        .isEqualTo(first.counters().get(Counter.NOHPTE_EXITS));
    assertThat(m.shadowOf(0, 5)).hasSize(1);
    assertThat(htabWords()).containsExactly(OLD_PTEG, OLD_PTEG + 8);
    GuestMmu.KernelEvents before = m.kernelEvents(0);
    m.hostBarrier(0);

    assertThat(setSdr1(1, NEW_SDR1).mode()).isEqualTo(7);
    assertThat(m.hostBarrier(0)).anyMatch(c -> c instanceof HostMmu.FlushVcpu);
    assertThat(m.shadowOf(0, 5)).isEmpty(); // kvmppc_mmu_pte_flush(vcpu, 0, 0)

    // the host HPTE is gone: NOHPTE; the new table has no entry: reflected, demand-mapped there
    Vcpu.BatchDone moved = m.run(0, load(ea(5, 0x10)));
    Counts a = hit.counters();
    Counts b = moved.counters();
    assertThat(moved.completed()).isEqualTo(1);
    assertThat(b.get(Counter.TLB_HITS)).isEqualTo(a.get(Counter.TLB_HITS));
    assertThat(b.get(Counter.NOHPTE_EXITS) - a.get(Counter.NOHPTE_EXITS))
        .isEqualTo(2); // before and after the guest map
    assertThat(b.get(Counter.REFLECTED_NOT_FOUND) - a.get(Counter.REFLECTED_NOT_FOUND))
        .isEqualTo(1);
    assertThat(m.kernelEvents(0).demandMaps() - before.demandMaps()).isEqualTo(1);
    assertThat(htabWords()).containsExactly(NEW_PTEG, NEW_PTEG + 8, OLD_PTEG, OLD_PTEG + 8);
    assertThat(m.shadowOf(0, 5)).hasSize(1);

    // back to the old SDR1: flushed again, and the old table's entry translates without a
    // reflection
    setSdr1(2, FlowMesh.SDR1);
    assertThat(m.shadowOf(0, 5)).isEmpty();
    Vcpu.BatchDone back = m.run(0, load(ea(5, 0x10)));
    Counts c = back.counters();
    assertThat(back.completed()).isEqualTo(1);
    assertThat(c.get(Counter.NOHPTE_EXITS) - b.get(Counter.NOHPTE_EXITS)).isEqualTo(1);
    assertThat(c.get(Counter.REFLECTED_NOT_FOUND)).isEqualTo(b.get(Counter.REFLECTED_NOT_FOUND));
    assertThat(m.kernelEvents(0).demandMaps() - before.demandMaps()).isEqualTo(1);
  }

  @Test
  void refusedSdr1_isPassedOnNamingSdr1_andFlushesNothing() {
    FlowMesh m = mesh = new FlowMesh(kit, MmuOptions.defaults(Policy.STRICT), 1, 2);
    m.populate(0, 5, A);
    m.run(0, load(ea(5, 0x10)));
    m.hostBarrier(0);
    TestProbe<Vcpu.StateReply> st = kit.createTestProbe();
    m.vm(0).vcpu.tell(new Vcpu.SetState(1, List.of(new VcpuStateChange.SetSdr1(0)), st.getRef()));
    Vcpu.Rejected r = st.expectMessageClass(Vcpu.Rejected.class);
    assertThat(r.reason()).startsWith("guest MMU rejected: changes[0] sdr1: 0 is refused");
    assertThat(m.hostBarrier(0)).noneMatch(c -> c instanceof HostMmu.FlushVcpu);
    assertThat(m.shadowOf(0, 5)).hasSize(1);
  }
}
