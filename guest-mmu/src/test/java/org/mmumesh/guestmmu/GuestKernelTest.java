package org.mmumesh.guestmmu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.FaultBits;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;

class GuestKernelTest {
  private static final long BASE = 0x10000000L;
  private final List<GuestKernel.Event> events = new ArrayList<>();
  private final List<HostFlush> flushes = new ArrayList<>();

  private GuestKernel kernel(GuestMmuPort mmu, ProtectionPolicy p, int pp) {
    return new GuestKernel(mmu, BASE, 64, pp, p, events::add, flushes::add);
  }

  private static Guest64 guest64() {
    return new Guest64(
        GuestHtab.forSdr1Book3s64(0x01000000L, 64L << 20), MmuOptions.defaults(Policy.STRICT), 1);
  }

  @Test
  void segmentInterrupt_loadsAnSlbEntry_thenNotFound_demandMapsPageToGfn() {
    Guest64 g = guest64();
    GuestKernel k = kernel(g, ProtectionPolicy.UPGRADE, 2);
    long ea = BASE + 5 * 4096 + 8;
    assertThat(g.xlate(0, ea, Access.LOAD, true).status()).isEqualTo(XlateStatus.EINVAL);
    assertThat(k.handle(0, FaultBits.VEC_DSEG, 0, 0, ea)).isEqualTo(GuestKernel.Outcome.RETRY);
    assertThat(g.xlate(0, ea, Access.LOAD, true).status()).isEqualTo(XlateStatus.ENOENT);
    assertThat(k.handle(0, FaultBits.VEC_DSI, FaultBits.DSISR_NOHPTE, 0, ea))
        .isEqualTo(GuestKernel.Outcome.RETRY);
    XlateResult r = g.xlate(0, ea, Access.STORE, true);
    assertThat(r.ok()).isTrue();
    assertThat(r.pte().gfn()).isEqualTo(5);
    assertThat(events).containsExactly(GuestKernel.Event.SLB_LOAD, GuestKernel.Event.DEMAND_MAP);
  }

  @Test
  void protectionFault_upgradesToReadWrite_andTlbiesThePage() {
    Guest64 g = guest64();
    GuestKernel k = kernel(g, ProtectionPolicy.UPGRADE, 3);
    long ea = BASE + 4096;
    g.loadSegment(0, ea);
    k.handle(0, FaultBits.VEC_DSI, FaultBits.DSISR_NOHPTE, 0, ea);
    assertThat(g.xlate(0, ea, Access.STORE, true).status()).isEqualTo(XlateStatus.EPERM);
    assertThat(k.handle(0, FaultBits.VEC_DSI, FaultBits.DSISR_PROTFAULT, 0, ea))
        .isEqualTo(GuestKernel.Outcome.RETRY);
    assertThat(g.xlate(0, ea, Access.STORE, true).ok()).isTrue();
    assertThat(flushes).hasSize(1);
    assertThat(events).contains(GuestKernel.Event.PROT_UPGRADE);
  }

  @Test
  void protectionPolicyFail_failsWithTheAddress() {
    Guest64 g = guest64();
    GuestKernel k = kernel(g, ProtectionPolicy.FAIL, 3);
    assertThat(k.handle(0, FaultBits.VEC_DSI, FaultBits.DSISR_PROTFAULT, 0, BASE))
        .isEqualTo(GuestKernel.Outcome.FAIL);
    assertThat(k.lastFailure()).isEqualTo("protection fault at ea 0x10000000");
  }

  @Test
  void notFoundForAPageThatHasAnHpte_isTreatedAsProtection_q2() {
    Guest64 g = guest64();
    GuestKernel k = kernel(g, ProtectionPolicy.UPGRADE, 3);
    g.loadSegment(0, BASE);
    k.handle(0, FaultBits.VEC_DSI, FaultBits.DSISR_NOHPTE, 0, BASE);
    k.handle(0, FaultBits.VEC_DSI, FaultBits.DSISR_NOHPTE, 0, BASE);
    assertThat(events)
        .containsExactly(
            GuestKernel.Event.DEMAND_MAP,
            GuestKernel.Event.MISREPORTED_NOT_FOUND,
            GuestKernel.Event.PROT_UPGRADE);
  }

  @Test
  void fullPtegPair_evictsAnEntryWithATlbie() {
    // A 32-bit guest whose HTAB has one 64 KiB group: 1024 PTEGs. Sixteen pages that hash to the
    // same primary and secondary groups fill both; the seventeenth evicts one.
    Guest32 g =
        new Guest32(
            GuestHtab.forSdr1Book3s32(0x00100000L, 64L << 20),
            MmuOptions.defaults(Policy.FIXED),
            1);
    GuestKernel k =
        new GuestKernel(g, BASE, 1 << 16, 2, ProtectionPolicy.UPGRADE, events::add, flushes::add);
    long first = BASE;
    long pteg = g.primaryPteg(0, first);
    int mapped = 0;
    for (long p = 0; mapped < 17 && p < (1 << 16); p++) {
      long ea = BASE + (p << 12);
      if (g.primaryPteg(0, ea) == pteg) {
        assertThat(k.handle(0, FaultBits.VEC_DSI, FaultBits.DSISR_NOHPTE, 0, ea))
            .isEqualTo(GuestKernel.Outcome.RETRY);
        mapped++;
      }
    }
    assertThat(mapped).isEqualTo(17);
    assertThat(events).contains(GuestKernel.Event.EVICTION);
    assertThat(flushes).hasSize(1);
  }

  @Test
  void noExecuteIsi_fails_andOutsideTheWindowFails() {
    Guest64 g = guest64();
    GuestKernel k = kernel(g, ProtectionPolicy.UPGRADE, 2);
    assertThat(k.handle(0, FaultBits.VEC_ISI, 0, FaultBits.SRR1_NOEXEC_GUARD, BASE))
        .isEqualTo(GuestKernel.Outcome.FAIL);
    assertThat(k.lastFailure()).contains("exception 0x400");
    assertThat(k.handle(0, FaultBits.VEC_DSI, FaultBits.DSISR_NOHPTE, 0, BASE + (64L << 12)))
        .isEqualTo(GuestKernel.Outcome.FAIL);
    assertThat(k.lastFailure()).contains("outside the window");
  }
}
