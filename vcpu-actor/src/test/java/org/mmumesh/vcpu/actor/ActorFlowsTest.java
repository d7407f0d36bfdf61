package org.mmumesh.vcpu.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mmumesh.vcpu.actor.FlowMesh.ea;
import static org.mmumesh.vcpu.actor.FlowMesh.load;
import static org.mmumesh.vcpu.actor.FlowMesh.store;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.mmumesh.common.AccessOp;
import org.mmumesh.common.AccessTrace;
import org.mmumesh.common.AccessTrace.XlateStatus;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Counts;
import org.mmumesh.common.FaultBits;
import org.mmumesh.common.Fingerprint;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;
import org.mmumesh.guestmmu.VcpuStateChange;
import org.mmumesh.guestmmu.actor.GuestMmu;
import org.mmumesh.hostmmu.ShadowDump;
import org.mmumesh.hostmmu.actor.HostMmu;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.pageframe.PfnStatus;
import org.mmumesh.pageframe.actor.PageFrame;
import org.mmumesh.pageframe.actor.ScriptedKsm;

/**
 * Issue 4's protocol flows across the real actors: a {@link Vcpu} talking to a real {@code
 * GuestMmu}, {@code HostMmu} and {@code PageFrame} wired as the mesh's {@code Guardian} wires them
 * ({@link FlowMesh}), with probes observing every command each real actor receives and a {@link
 * FlowGate} holding chosen messages to the {@code HostMmu} to freeze a vCPU mid-fault. Each test
 * asserts the observable outcome (replies, counters, the messages exchanged) and the state after
 * (shadow entries via {@code DumpShadow}, frame contents via {@code ReadFrames}, leases, KSM state
 * via gfn-to-pfn). Every message crosses the CBOR serializer ({@code serialize-messages = on}).
 *
 * <p>The guest is 64-bit: the first access of a segment takes a segment interrupt (spec 6.2 {@code
 * -EINVAL}), and the guest kernel model demand-maps EA page {@code p} of the window to gfn {@code
 * p} on a reflected "not found" DSI. Policies: {@code strict} (no quirks: read-only maps until the
 * guest C bit is set, notifier invalidations by range, the {@code mmu_notifier_retry} guard) unless
 * a flow is about the kernel at the commit ({@code fixed}: Q4, Q8 deferred full flushes, no guard;
 * spec 5.7, 6.3); flows whose outcome differs by policy run under both. Real time, no timer
 * matters: every timeout is {@link FlowMesh#LONG}, and "not yet" checks ({@code expectNoMessage})
 * are always followed by the positive outcome once the held message is released.
 */
class ActorFlowsTest {
  private static final ActorTestKit kit = ActorTestKit.create(ConfigFactory.load());

  /** A page content (fingerprint), the same in every VM that holds it. */
  private static final long A = 0x5EED_0000_0000_00A1L;

  /** "Not yet": how long a withheld reply is watched before the release. */
  private static final Duration NOT_YET = Duration.ofMillis(300);

  private static final long DSISR_PROT_STORE = FaultBits.DSISR_PROTFAULT | FaultBits.DSISR_ISSTORE;

  private FlowMesh mesh;

  @AfterAll
  static void shutdown() {
    kit.shutdownTestKit();
  }

  @AfterEach
  void stopMesh() {
    if (mesh != null) {
      assertThat(mesh.frameInvariantViolations()).isEmpty();
      for (int v = 0; v < mesh.vms.size(); v++) {
        assertThat(mesh.hostInvariantViolations(v)).isEmpty();
      }
      mesh.stop();
    }
  }

  private FlowMesh mesh(Policy p, int vms, int guestPp) {
    mesh = new FlowMesh(kit, MmuOptions.defaults(p), vms, guestPp);
    return mesh;
  }

  private static <T> List<T> only(List<?> msgs, Class<T> c) {
    return msgs.stream().filter(c::isInstance).map(c::cast).toList();
  }

  private static int indexOf(List<?> msgs, Class<?> c) {
    for (int i = 0; i < msgs.size(); i++) {
      if (c.isInstance(msgs.get(i))) {
        return i;
      }
    }
    return -1;
  }

  private static void assertNoWritableMappingOf(ShadowDump d, long pfn) {
    assertThat(d.vcpus().stream().flatMap(List::stream))
        .filteredOn(e -> e.pfn() == pfn && e.writable())
        .isEmpty();
  }

  // ---- 1. load hit ----------------------------------------------------------------------------

  @Test
  void loadHit_secondLoadsOfAMappedPage_completeInTheTlb_withNoMessageToAnyActor() {
    FlowMesh m = mesh(Policy.STRICT, 1, 2);
    m.populate(0, 5, A);
    Vcpu.BatchDone first = m.run(0, load(ea(5, 0x10)));
    assertThat(first.completed()).isEqualTo(1);
    assertThat(first.counters().get(Counter.HOST_MAPS_RO)).isEqualTo(1);
    assertThat(first.counters().get(Counter.TLB_HITS)).isZero();
    assertThat(m.hostBarrier(0)).anyMatch(c -> c instanceof HostMmu.MapPage);
    m.guestBarrier(0);
    m.framesBarrier();

    Vcpu.BatchDone second = m.run(0, load(ea(5, 0x10)), load(ea(5, 0x18)), load(ea(5, 0xFF8)));

    assertThat(second.completed()).isEqualTo(3);
    assertThat(second.failed()).isZero();
    Counts a = first.counters();
    Counts b = second.counters();
    assertThat(b.get(Counter.TLB_HITS) - a.get(Counter.TLB_HITS)).isEqualTo(3);
    assertThat(b.get(Counter.HTAB_HITS)).isEqualTo(a.get(Counter.HTAB_HITS));
    assertThat(b.get(Counter.NOHPTE_EXITS)).isEqualTo(a.get(Counter.NOHPTE_EXITS));
    assertThat(b.get(Counter.ACCESSES) - a.get(Counter.ACCESSES)).isEqualTo(3);
    // nothing reached the host MMU, the guest MMU or the page frames
    assertThat(m.hostBarrier(0)).isEmpty();
    assertThat(m.guestBarrier(0)).isEmpty();
    assertThat(m.framesBarrier()).isEmpty();
    assertThat(m.shadowOf(0, 5)).hasSize(1);
  }

  // ---- 2. NOHPTE fault ------------------------------------------------------------------------

  @ParameterizedTest
  @EnumSource(
      value = Policy.class,
      names = {"FIXED", "STRICT"})
  void noHpteFault_firstLoad_demandMapsInTheGuest_thenMapsReadOnly_leaseReleasedAfterTheMap(
      Policy policy) {
    FlowMesh m = mesh(policy, 1, 2);
    m.populate(0, 8, A);
    TestProbe<FlowGate.Held> held = m.hold(0, HostMmu.MapPage.class, 1);
    TestProbe<Vcpu.BatchReply> done = kit.createTestProbe();
    m.start(0, done, load(ea(7, 0x20)));

    // mid-fault, after gfn-to-pfn: the map carries the zero page read-only, the lease is held
    HostMmu.MapPage map = (HostMmu.MapPage) held.receiveMessage().message();
    assertThat(map.pfn()).isEqualTo(PageFrames.ZERO_PFN);
    assertThat(map.writable()).isFalse();
    assertThat(map.pte().gfn()).isEqualTo(7);
    assertThat(map.guardSeq()).isEqualTo(policy == Policy.FIXED ? -1 : 0); // Q8: no guard
    assertThat(m.leasesHeld(0)).isEqualTo(1);
    assertThat(m.status(0).state()).isEqualTo(Vcpu.VcpuState.AWAITING_FAULT);
    m.release(0, HostMmu.MapPage.class);

    Vcpu.BatchDone d = done.expectMessageClass(Vcpu.BatchDone.class);
    assertThat(d.completed()).isEqualTo(1);
    assertThat(d.failed()).isZero();
    Counts c = d.counters();
    // NO_VSID (segment), no guest HPTE (not found, demand map), then the host map
    assertThat(c.get(Counter.NOHPTE_EXITS)).isEqualTo(3);
    assertThat(c.get(Counter.REFLECTED_SEGMENT)).isEqualTo(1);
    assertThat(c.get(Counter.REFLECTED_NOT_FOUND)).isEqualTo(1);
    assertThat(c.get(Counter.REFLECTED_DSI)).isEqualTo(2);
    assertThat(c.get(Counter.HOST_MAPS_RO)).isEqualTo(1);
    assertThat(c.get(Counter.HOST_MAPS_RW)).isZero();
    assertThat(c.get(Counter.HTAB_HITS)).isEqualTo(1);

    List<GuestMmu.HandleException> reflected =
        only(m.guestBarrier(0), GuestMmu.HandleException.class);
    assertThat(reflected)
        .extracting(GuestMmu.HandleException::vector)
        .containsExactly(FaultBits.VEC_DSEG, FaultBits.VEC_DSI);
    assertThat(reflected.get(1).dsisr()).isEqualTo(FaultBits.DSISR_NOHPTE);
    GuestMmu.KernelEvents ev = m.kernelEvents(0);
    assertThat(ev.slbLoads()).isEqualTo(1);
    assertThat(ev.demandMaps()).isEqualTo(1);

    List<PageFrame.Command> toFrames = m.framesBarrier();
    List<PageFrame.GfnToPfnProt> g2p = only(toFrames, PageFrame.GfnToPfnProt.class);
    assertThat(g2p).hasSize(1);
    assertThat(g2p.get(0).gfn()).isEqualTo(7);
    assertThat(g2p.get(0).writeFault()).isFalse();
    assertThat(indexOf(toFrames, PageFrame.ReleaseLease.class))
        .isGreaterThan(indexOf(toFrames, PageFrame.GfnToPfnProt.class));
    assertThat(m.leasesHeld(0)).isZero();
    assertThat(m.frameStat("LEASES_RELEASED")).isEqualTo(m.frameStat("LEASES_GRANTED"));

    List<ShadowDump.ShadowEntry> e = m.shadowOf(0, 7);
    assertThat(e).hasSize(1);
    assertThat(e.get(0).pfn()).isEqualTo(PageFrames.ZERO_PFN);
    assertThat(e.get(0).writable()).isFalse();
    assertThat(e.get(0).hptePresent()).isTrue();

    // a written private page: read-only under strict (guest C clear), writable under fixed (Q4,
    // spec 8.4 TV32, with mark_page_dirty)
    Vcpu.BatchDone d2 = m.run(0, load(ea(8, 0x20)));
    assertThat(d2.completed()).isEqualTo(1);
    List<ShadowDump.ShadowEntry> e8 = m.shadowOf(0, 8);
    assertThat(e8).hasSize(1);
    assertThat(e8.get(0).writable()).isEqualTo(policy == Policy.FIXED);
    assertThat(d2.counters().get(Counter.MARK_DIRTY)).isEqualTo(policy == Policy.FIXED ? 1 : 0);
  }

  // ---- 3. PROTFAULT on a KSM page -------------------------------------------------------------

  @Test
  void protfaultOnKsmPage_storeAfterLoad_unmapsThenCowsThenMapsWritable_TV33_TV34() {
    FlowMesh m = mesh(Policy.FIXED, 2, 2);
    long g = 9;
    m.populate(0, g, A);
    m.populate(1, g, A);
    int k = m.pfnOf(0, g, false).result().pfn();
    int p1 = m.pfnOf(1, g, false).result().pfn();
    assertThat(m.ksmOp(c -> c.writeProtectPage(0, g, k))).isTrue();
    assertThat(m.ksmOp(c -> ScriptedKsm.makeKsmPage(c, 0, g, k))).isTrue();
    assertThat(m.ksmOp(c -> c.writeProtectPage(1, g, p1))).isTrue();
    assertThat(m.ksmOp(c -> c.replacePage(1, g, p1, k))).isTrue();

    // TV33: a load maps the KSM frame read-only, no COW
    Vcpu.BatchDone loaded = m.run(0, load(ea(g, 0x20)));
    assertThat(loaded.completed()).isEqualTo(1);
    List<ShadowDump.ShadowEntry> ro = m.shadowOf(0, g);
    assertThat(ro).hasSize(1);
    assertThat(ro.get(0).pfn()).isEqualTo(k);
    assertThat(ro.get(0).writable()).isFalse();
    assertThat(m.frameStat("COW_KSM")).isZero();
    m.hostBarrier(0);

    // TV34: the store
    long value = 0xC0FFEE;
    Vcpu.BatchDone stored = m.run(0, store(ea(g, 0x20), value));
    assertThat(stored.completed()).isEqualTo(1);
    assertThat(stored.failed()).isZero();
    Counts a = loaded.counters();
    Counts b = stored.counters();
    assertThat(b.get(Counter.PROTFAULT_EXITS) - a.get(Counter.PROTFAULT_EXITS)).isEqualTo(1);
    assertThat(b.get(Counter.UNMAPS) - a.get(Counter.UNMAPS)).isEqualTo(1);
    // the COW's notifier (Q8, deferred full flush) costs one more NOHPTE round trip (6.3 step 3)
    assertThat(b.get(Counter.NOHPTE_EXITS) - a.get(Counter.NOHPTE_EXITS)).isEqualTo(1);
    assertThat(b.get(Counter.HOST_MAPS_RW) - a.get(Counter.HOST_MAPS_RW)).isEqualTo(2);
    assertThat(b.get(Counter.STORES_LOST)).isZero();

    List<HostMmu.Command> toHost = m.hostBarrier(0);
    List<HostMmu.UnmapPage> unmaps = only(toHost, HostMmu.UnmapPage.class);
    assertThat(unmaps).hasSize(1);
    assertThat(unmaps.get(0).pte().vpage()).isEqualTo(ro.get(0).vpage()); // pte_vflush(vpage)
    List<HostMmu.MapPage> maps = only(toHost, HostMmu.MapPage.class);
    assertThat(maps).isNotEmpty().allMatch(p -> p.writable() && p.pfn() != k);
    int cow = maps.get(0).pfn();
    assertThat(indexOf(toHost, HostMmu.UnmapPage.class))
        .isLessThan(indexOf(toHost, HostMmu.MapPage.class));
    assertThat(only(toHost, HostMmu.NotifierInvalidate.class)).hasSize(1);
    assertThat(m.frameStat("COW_KSM")).isEqualTo(1);

    List<ShadowDump.ShadowEntry> rw = m.shadowOf(0, g);
    assertThat(rw).hasSize(1);
    assertThat(rw.get(0).pfn()).isEqualTo(cow);
    assertThat(rw.get(0).writable()).isTrue();
    assertNoWritableMappingOf(m.shadow(0), k);
    // the store went to VM 0's private copy; VM 1 still maps the unchanged KSM frame
    assertThat(m.readFrame(0, g)).isEqualTo(Fingerprint.mix(A, 0x20, value));
    assertThat(m.readFrame(1, g)).isEqualTo(A);
    PageFrame.PfnAnswered vm1 = m.pfnOf(1, g, false);
    assertThat(vm1.result().pfn()).isEqualTo(k);
    assertThat(vm1.result().writable()).isFalse();
  }

  // ---- 4. reflected DSI with the right DSISR bits ---------------------------------------------

  @Test
  void reflectedDsi_storeToAGuestReadOnlyPage_reflectsProtfaultAndStore_guestUpgradesAndTlbies() {
    // the guest kernel maps pages PP=3: read-only for the problem-state vCPU (key Kp=1, spec 3.5)
    FlowMesh m = mesh(Policy.STRICT, 1, 3);
    m.populate(0, 12, A);
    long fresh = ea(11, 0x8);
    long mapped = ea(12, 0x8);
    Vcpu.BatchDone first = m.run(0, store(fresh, 1), load(mapped));
    assertThat(first.completed()).isEqualTo(2);
    m.hostBarrier(0);
    m.guestBarrier(0);
    Vcpu.BatchDone second = m.run(0, store(mapped, 2));
    assertThat(second.completed()).isEqualTo(1);
    assertThat(second.failed()).isZero();

    // a store with no host HPTE (DSISR NOHPTE|ISSTORE): first "not found" as given, then after
    // the demand map -EPERM: DSISR = (fault & ~NOHPTE) | PROTFAULT (spec 6.2), ISSTORE kept
    Counts c1 = first.counters();
    assertThat(c1.get(Counter.REFLECTED_PROTECTION)).isEqualTo(1);
    // a store to the read-only host HPTE of the loaded page: PROTFAULT|ISSTORE exit, -EPERM
    Counts c2 = second.counters();
    assertThat(c2.get(Counter.PROTFAULT_EXITS) - c1.get(Counter.PROTFAULT_EXITS)).isEqualTo(1);
    assertThat(c2.get(Counter.REFLECTED_PROTECTION)).isEqualTo(2);

    List<GuestMmu.HandleException> reflected =
        only(m.guestBarrier(0), GuestMmu.HandleException.class);
    assertThat(reflected).hasSize(1);
    assertThat(reflected.get(0).vector()).isEqualTo(FaultBits.VEC_DSI);
    assertThat(reflected.get(0).dsisr()).isEqualTo(DSISR_PROT_STORE);
    assertThat(reflected.get(0).ea()).isEqualTo(mapped);
    GuestMmu.KernelEvents ev = m.kernelEvents(0);
    assertThat(ev.protUpgrades()).isEqualTo(2);
    // the upgrade's tlbie reached the host MMU and removed the read-only entry
    List<HostMmu.Command> toHost = m.hostBarrier(0);
    assertThat(only(toHost, HostMmu.GuestTlbie.class)).hasSize(1);
    List<ShadowDump.ShadowEntry> e = m.shadowOf(0, 12);
    assertThat(e).hasSize(1);
    assertThat(e.get(0).writable()).isTrue();
    assertThat(e.get(0).mayWrite()).isTrue(); // the guest PTE now allows writing
    assertThat(m.readFrame(0, 12)).isEqualTo(Fingerprint.mix(A, 0x8, 2));
    assertThat(m.readFrame(0, 11)).isEqualTo(Fingerprint.mix(Fingerprint.ZERO, 0x8, 1));
  }

  @Test
  void reflectedDsi_storeWithNoHostHpte_guestSeesNotFoundThenProtfaultWithStoreBit() {
    FlowMesh m = mesh(Policy.STRICT, 1, 3);
    long ea = ea(11, 0x8);
    m.run(0, load(ea(1, 0))); // load the segment
    m.guestBarrier(0);
    Vcpu.BatchDone d = m.run(0, store(ea, 1));
    assertThat(d.completed()).isEqualTo(1);
    List<GuestMmu.HandleException> r = only(m.guestBarrier(0), GuestMmu.HandleException.class);
    assertThat(r)
        .extracting(GuestMmu.HandleException::dsisr)
        .containsExactly(FaultBits.DSISR_NOHPTE | FaultBits.DSISR_ISSTORE, DSISR_PROT_STORE);
    assertThat(r).allMatch(x -> x.vector() == FaultBits.VEC_DSI && x.ea() == ea);
  }

  // ---- 5. MMIO exit ---------------------------------------------------------------------------

  @Test
  void mmioExit_accessToAGfnOutsideEveryMemslot_completesAsMmio_noMapNoLeaseLeft() {
    FlowMesh m = mesh(Policy.STRICT, 1, 2);
    m.run(0, load(ea(1, 0))); // the segment's SLB entry
    long gfn = FlowMesh.MEMORY_PAGES + 0x40; // memslot 0 is [0, MEMORY_PAGES)
    long ea = ea(FlowMesh.PAGES + 3, 0x10); // outside the kernel's window: mapped by H_ENTER
    TestProbe<GuestMmu.EnterReply> entered = kit.createTestProbe();
    m.vm(0).guest.tell(new GuestMmu.EnterHpte(m.nextId(), 0, ea, gfn, 2, entered.getRef()));
    assertThat(entered.expectMessageClass(GuestMmu.HpteEntered.class).pteAddr())
        .isGreaterThanOrEqualTo(0);
    Vcpu.StatusReport before = m.status(0);
    m.hostBarrier(0);
    m.framesBarrier();

    Vcpu.BatchDone d = m.run(0, load(ea), store(ea, 7), load(ea));

    assertThat(d.completed()).isEqualTo(3);
    assertThat(d.failed()).isZero();
    Counts c = d.counters();
    assertThat(c.get(Counter.MMIO_EXITS)).isEqualTo(3); // never cached: every access exits
    assertThat(c.get(Counter.TLB_HITS)).isEqualTo(before.counters().get(Counter.TLB_HITS));
    assertThat(c.get(Counter.HOST_MAPS_RO) + c.get(Counter.HOST_MAPS_RW))
        .isEqualTo(
            before.counters().get(Counter.HOST_MAPS_RO)
                + before.counters().get(Counter.HOST_MAPS_RW));
    assertThat(c.get(Counter.STORES_LOST)).isZero();
    List<PageFrame.Command> toFrames = m.framesBarrier();
    assertThat(only(toFrames, PageFrame.GfnToPfnProt.class))
        .hasSize(3)
        .allMatch(x -> x.gfn() == gfn);
    assertThat(only(toFrames, PageFrame.ReleaseLease.class)).hasSize(3);
    assertThat(only(toFrames, PageFrame.ApplyStores.class)).isEmpty();
    assertThat(only(m.hostBarrier(0), HostMmu.MapPage.class)).isEmpty();
    assertThat(m.shadowOf(0, gfn)).isEmpty();
    assertThat(m.leasesHeld(0)).isZero();
  }

  // ---- 6. guest tlbie -------------------------------------------------------------------------

  @Test
  void guestTlbie_removeHpte_flushesHostAndVcpuTlb_andIsAnsweredOnlyAfterTheFlush() {
    FlowMesh m = mesh(Policy.STRICT, 1, 2);
    m.populate(0, 13, A);
    long ea = ea(13, 0x30);
    Vcpu.BatchDone warm = m.run(0, load(ea), load(ea));
    assertThat(warm.counters().get(Counter.TLB_HITS)).isEqualTo(1);
    List<ShadowDump.ShadowEntry> entry = m.shadowOf(0, 13);
    assertThat(entry).hasSize(1);
    m.hostBarrier(0);
    Vcpu.StatusReport before = m.status(0);

    TestProbe<FlowGate.Held> held = m.hold(0, HostMmu.GuestTlbie.class, 1);
    TestProbe<GuestMmu.RemoveReply> removed = kit.createTestProbe();
    long id = m.nextId();
    m.vm(0).guest.tell(new GuestMmu.RemoveHpte(id, 0, ea, removed.getRef()));
    HostMmu.GuestTlbie tlbie = (HostMmu.GuestTlbie) held.receiveMessage().message();
    assertThat(tlbie.flush()).isInstanceOf(HostFlush.PteVflush.class);
    assertThat(((HostFlush.PteVflush) tlbie.flush()).vpage()).isEqualTo(entry.get(0).vpage());
    removed.expectNoMessage(NOT_YET); // not yet: the host has not flushed
    assertThat(m.shadowOf(0, 13)).hasSize(1);

    m.release(0, HostMmu.GuestTlbie.class);
    assertThat(removed.expectMessageClass(GuestMmu.HpteRemoved.class))
        .isEqualTo(new GuestMmu.HpteRemoved(id, true));
    // by then the shadow entry is gone and the vCPU acknowledged the shootdown
    assertThat(m.shadowOf(0, 13)).isEmpty();
    Vcpu.StatusReport after = m.status(0);
    assertThat(after.knownEpoch()).isGreaterThan(before.knownEpoch());
    assertThat(after.counters().get(Counter.SHOOTDOWNS) - before.counters().get(Counter.SHOOTDOWNS))
        .isEqualTo(1);
    List<HostMmu.Command> toHost = m.hostBarrier(0);
    assertThat(indexOf(toHost, HostMmu.GuestTlbie.class))
        .isLessThan(indexOf(toHost, HostMmu.TlbShootdownAck.class));

    // the next access misses the TLB and the host HTAB; the guest demand-maps the page again
    Vcpu.BatchDone next = m.run(0, load(ea));
    assertThat(next.completed()).isEqualTo(1);
    Counts a = after.counters();
    Counts b = next.counters();
    assertThat(b.get(Counter.TLB_HITS)).isEqualTo(a.get(Counter.TLB_HITS));
    assertThat(b.get(Counter.NOHPTE_EXITS) - a.get(Counter.NOHPTE_EXITS)).isEqualTo(2);
    assertThat(b.get(Counter.REFLECTED_NOT_FOUND) - a.get(Counter.REFLECTED_NOT_FOUND))
        .isEqualTo(1);
    assertThat(m.shadowOf(0, 13)).hasSize(1);
  }

  // ---- 7. KSM merge while a vCPU is mid-fault -------------------------------------------------

  /**
   * ksmd tries to merge the frame a store fault holds (between its gfn-to-pfn, which broke nothing:
   * the page was private and writable, and its map). The fault's page reference ({@code
   * FaultPageRefs}, KVM's from {@code gfn_to_pfn_prot}) makes {@code write_protect_page} fail as
   * the kernel's page-count check does: no invalidation, the PTE stays writable, the map is
   * installed and the store lands in the fault's frame. The reference is kept through the retried
   * store (the guest's immediate retry); once the access is done ksmd can write-protect the frame
   * on a later pass.
   */
  @ParameterizedTest
  @EnumSource(
      value = Policy.class,
      names = {"FIXED", "STRICT"})
  void ksmMergeMidFault_failsOnTheFaultsPageReference_storeLandsInItsFrame_mergeableAfter(
      Policy policy) {
    FlowMesh m = mesh(policy, 2, 2);
    long g = 20;
    m.populate(0, g, A);
    m.populate(1, g, A);

    // freeze the vCPU after its GfnToPfnProt(write) reply: the MapPage is held at the gate
    TestProbe<FlowGate.Held> heldMap = m.hold(0, HostMmu.MapPage.class, 1);
    TestProbe<Vcpu.BatchReply> done = kit.createTestProbe();
    long value = 0xBEEF;
    m.start(0, done, store(ea(g, 0x40), value));
    HostMmu.MapPage held = (HostMmu.MapPage) heldMap.receiveMessage().message();
    int k = held.pfn();
    assertThat(held.writable()).isTrue();
    assertThat(m.leasesHeld(0)).isEqualTo(1);

    // ksmd: write_protect_page fails on the referenced frame; nothing is invalidated
    long notifiers = m.frameStat("NOTIFIER_EVENTS");
    assertThat(m.ksmOp(c -> c.writeProtectPage(0, g, k))).isFalse();
    assertThat(m.frameStat("NOTIFIER_EVENTS")).isEqualTo(notifiers);

    m.release(0, HostMmu.MapPage.class);
    Vcpu.BatchDone d = done.expectMessageClass(Vcpu.BatchDone.class);
    assertThat(d.completed()).isEqualTo(1);
    assertThat(d.failed()).isZero();
    assertThat(d.counters().get(Counter.STORES_LOST)).isZero();
    assertThat(d.counters().get(Counter.MAPS_REFUSED)).isZero();
    assertThat(m.frameStat("COW_BREAKS")).isZero();
    assertThat(m.leasesHeld(0)).isZero();
    assertThat(m.readFrame(0, g)).isEqualTo(Fingerprint.mix(A, 0x40, value));
    assertThat(m.readFrame(1, g)).isEqualTo(A);
    List<ShadowDump.ShadowEntry> e = m.shadowOf(0, g);
    assertThat(e).singleElement().matches(x -> x.pfn() == k && x.writable(), "writable on k");

    // the reference dropped with the access: a later pass write-protects the frame
    assertThat(m.ksmOp(c -> c.writeProtectPage(0, g, k))).isTrue();
    PageFrame.PfnAnswered after = m.pfnOf(0, g, false);
    assertThat(after.result().pfn()).isEqualTo(k);
    assertThat(after.result().writable()).as("the host PTE is read-only now").isFalse();
    assertThat(m.frameStat("NOTIFIER_EVENTS")).isEqualTo(notifiers + 1);
  }

  // ---- 8. memslot removal during a fault ------------------------------------------------------

  /**
   * Spec 8.8 TV61. Strict: the removal's invalidation moved the notifier sequence, so the guard
   * refuses the map. Fixed (Q8, no guard): the map of the old slot's frame is installed, and the
   * deferred full flush removes it before the retry. Either way the retried access finds no slot:
   * an MMIO exit.
   */
  @ParameterizedTest
  @EnumSource(
      value = Policy.class,
      names = {"FIXED", "STRICT"})
  void memslotRemovalMidFault_waitsForTheLease_thenTheAccessIsAnMmioExit_TV61(Policy policy) {
    boolean guarded = policy == Policy.STRICT;
    FlowMesh m = mesh(policy, 1, 2);
    long g = 30;
    m.populate(0, g, A);
    TestProbe<FlowGate.Held> held = m.hold(0, HostMmu.MapPage.class, 1);
    TestProbe<Vcpu.BatchReply> done = kit.createTestProbe();
    m.start(0, done, load(ea(g, 0)));
    HostMmu.MapPage map = (HostMmu.MapPage) held.receiveMessage().message();
    assertThat(map.pte().gfn()).isEqualTo(g);
    assertThat(m.leasesHeld(0)).isEqualTo(1);
    m.framesBarrier();

    TestProbe<PageFrame.SlotReply> slot = kit.createTestProbe();
    long rsId = m.nextId();
    m.frames.tell(new PageFrame.RemoveSlot(rsId, 0, 0, slot.getRef()));
    slot.expectNoMessage(NOT_YET); // not yet: the vCPU's lease holds it back
    assertThat(m.frameStat("SLOT_UPDATES_WAITED")).isEqualTo(1);
    assertThat(m.leasesHeld(0)).isEqualTo(1);
    // the removal is published at once: a new lookup already sees no slot
    PageFrame.PfnAnswered probe = m.pfnOf(0, g, false);
    assertThat(probe.result().status()).isEqualTo(PfnStatus.NOSLOT);

    m.release(0, HostMmu.MapPage.class);
    assertThat(slot.expectMessageClass(PageFrame.SlotUpdateCompleted.class).requestId())
        .isEqualTo(rsId);
    Vcpu.BatchDone d = done.expectMessageClass(Vcpu.BatchDone.class);
    assertThat(d.completed()).isEqualTo(1);
    assertThat(d.failed()).isZero();
    assertThat(d.counters().get(Counter.MAPS_REFUSED)).isEqualTo(guarded ? 1 : 0);
    assertThat(d.counters().get(Counter.HOST_MAPS_RO) + d.counters().get(Counter.HOST_MAPS_RW))
        .isEqualTo(guarded ? 0 : 1);
    assertThat(d.counters().get(Counter.MMIO_EXITS)).isEqualTo(1);
    // the vCPU's lease was released after the removal arrived, and only then was it answered
    List<PageFrame.Command> toFrames = m.framesBarrier();
    int removal = indexOf(toFrames, PageFrame.RemoveSlot.class);
    assertThat(removal).isNotNegative();
    assertThat(toFrames.subList(removal, toFrames.size()))
        .anyMatch(c -> c instanceof PageFrame.ReleaseLease r && r.lease() != probe.lease());
    assertThat(m.leasesHeld(0)).isZero();
    assertThat(m.shadowOf(0, g)).isEmpty();

    // a later access to that gfn is an MMIO exit too
    Vcpu.BatchDone later = m.run(0, load(ea(g, 8)));
    assertThat(later.completed()).isEqualTo(1);
    assertThat(later.counters().get(Counter.MMIO_EXITS)).isEqualTo(2);
  }

  // ---- 7b. halt in the deferred-flush window (Q8) ---------------------------------------------

  /**
   * Fixed (Q8): a write-protect's invalidation only requests KVM_REQ_TLB_FLUSH, processed at the
   * vCPU's next guest entry. A vCPU halted in that window never enters the guest again; the halt
   * must flush, else the writable mapping of the write-protected (soon merged) frame stays.
   */
  @Test
  void haltInTheDeferredFlushWindow_flushesTheVcpu_noWritableMappingOfTheProtectedFrameSurvives() {
    FlowMesh m = mesh(Policy.FIXED, 1, 2);
    long g = 20;
    m.populate(0, g, A);
    assertThat(m.run(0, store(ea(g, 0x40), 1)).completed()).isEqualTo(1);
    List<ShadowDump.ShadowEntry> before = m.shadowOf(0, g);
    assertThat(before).hasSize(1);
    assertThat(before.get(0).writable()).isTrue();
    int k = (int) before.get(0).pfn();

    assertThat(m.ksmOp(c -> c.writeProtectPage(0, g, k))).isTrue();
    // the window: the flush is deferred to the next guest entry
    assertThat(m.shadowOf(0, g)).anyMatch(ShadowDump.ShadowEntry::writable);

    TestProbe<Vcpu.ControlReply> halted = kit.createTestProbe();
    m.vm(0).vcpu.tell(new Vcpu.Halt(halted.getRef()));
    halted.expectMessage(new Vcpu.Acknowledged("Halt", Vcpu.VcpuState.HALTED));
    assertThat(only(m.hostBarrier(0), HostMmu.FlushVcpu.class)).hasSize(1);
    assertNoWritableMappingOf(m.shadow(0), k);
  }

  // ---- 9. SetState (issue 5) ------------------------------------------------------------------

  @Test
  void setState_slbia_throughTheRealGuestMmu_flushesTlbAndShadows_andTheNextLoadRefaults() {
    FlowMesh m = mesh(Policy.STRICT, 1, 2);
    m.populate(0, 5, A);
    Vcpu.BatchDone first = m.run(0, load(ea(5, 0x10)));
    assertThat(first.completed()).isEqualTo(1);
    assertThat(m.shadowOf(0, 5)).hasSize(1);
    GuestMmu.KernelEvents before = m.kernelEvents(0);
    m.hostBarrier(0);
    m.guestBarrier(0);

    TestProbe<Vcpu.StateReply> st = kit.createTestProbe();
    m.vm(0).vcpu.tell(new Vcpu.SetState(1, List.of(new VcpuStateChange.Slbia()), st.getRef()));
    Vcpu.StateSet set = st.expectMessageClass(Vcpu.StateSet.class);
    assertThat(set.requestId()).isEqualTo(1);
    assertThat(set.mode()).isEqualTo(7); // problem state, IR and DR: unchanged by slbia
    assertThat(m.guestBarrier(0)).anyMatch(c -> c instanceof GuestMmu.SetVcpuState);
    assertThat(m.hostBarrier(0)).anyMatch(c -> c instanceof HostMmu.FlushVcpu);
    assertThat(m.shadowOf(0, 5)).isEmpty(); // kvmppc_mmu_pte_flush(vcpu, 0, 0)

    Vcpu.BatchDone second = m.run(0, load(ea(5, 0x10)));
    assertThat(second.completed()).isEqualTo(1);
    assertThat(second.counters().get(Counter.TLB_HITS))
        .isEqualTo(first.counters().get(Counter.TLB_HITS));
    // the guest VSID is asked again and the segment, gone from the SLB, reloaded by the guest
    assertThat(m.guestBarrier(0)).anyMatch(c -> c instanceof GuestMmu.EsidToVsid);
    assertThat(m.kernelEvents(0).slbLoads()).isGreaterThan(before.slbLoads());
    assertThat(m.status(0).state()).isEqualTo(Vcpu.VcpuState.IDLE);

    // a change that does not fit a 64-bit guest: the GuestMmu's rejection, nothing flushed
    m.vm(0).vcpu.tell(new Vcpu.SetState(2, List.of(new VcpuStateChange.Mtsrin(0, 1)), st.getRef()));
    Vcpu.Rejected r = st.expectMessageClass(Vcpu.Rejected.class);
    assertThat(r.id()).isEqualTo(2);
    assertThat(r.state()).isEqualTo(Vcpu.VcpuState.IDLE);
    assertThat(r.reason()).startsWith("guest MMU rejected: changes[0] mtsrin: the guest is 64-bit");
    assertThat(m.hostBarrier(0)).noneMatch(c -> c instanceof HostMmu.FlushVcpu);
  }

  // ---- 10. TraceAccess (issue 5) --------------------------------------------------------------

  private AccessTrace trace(FlowMesh m, long id, AccessOp op) {
    TestProbe<Vcpu.TraceReply> r = kit.createTestProbe();
    // a vCPU traces only when IDLE, and it is STARTING until its guest MMU has told it the mode
    r.awaitAssert(
        Duration.ofSeconds(30),
        () -> {
          assertThat(m.status(0).state()).isEqualTo(Vcpu.VcpuState.IDLE);
          return null;
        });
    m.vm(0).vcpu.tell(new Vcpu.TraceAccess(id, op, r.getRef()));
    Vcpu.AccessTraced t = r.expectMessageClass(Vcpu.AccessTraced.class);
    assertThat(t.requestId()).isEqualTo(id);
    return t.trace();
  }

  @Test
  void traceAccess_firstTouchLoad_segmentAndNotFoundReflections_thenTheMap_thenATlbHit() {
    FlowMesh m = mesh(Policy.STRICT, 1, 2);
    m.populate(0, 5, A);
    long ea = ea(5, 0x20);
    AccessTrace t = trace(m, 1, load(ea));

    assertThat(t.completed()).isTrue();
    assertThat(t.failure()).isNull();
    assertThat(t.tlbHit()).isFalse();
    assertThat(t.hostHpteHit()).isFalse(); // exits were taken
    assertThat(t.faults())
        .extracting(AccessTrace.FaultTrace::kind)
        .containsOnly(AccessTrace.FaultKind.NOHPTE)
        .hasSize(3);
    AccessTrace.FaultTrace seg = t.faults().get(0);
    assertThat(seg.xlate().status()).isEqualTo(XlateStatus.EINVAL);
    assertThat(seg.reflected())
        .isEqualTo(new AccessTrace.ReflectTrace(FaultBits.VEC_DSEG, ea, 0, 0, "segment"));
    AccessTrace.FaultTrace nf = t.faults().get(1);
    assertThat(nf.xlate().status()).isEqualTo(XlateStatus.ENOENT);
    assertThat(nf.reflected())
        .isEqualTo(
            new AccessTrace.ReflectTrace(
                FaultBits.VEC_DSI, ea, FaultBits.DSISR_NOHPTE, 0, "not_found"));
    assertThat(nf.gfnToPfn()).isNull();
    assertThat(nf.map()).isNull();
    AccessTrace.FaultTrace map = t.faults().get(2);
    assertThat(map.xlate().status()).isEqualTo(XlateStatus.OK);
    assertThat(map.xlate().guestRealAddr()).isEqualTo((5L << 12) | 0x20);
    assertThat(map.xlate().mayRead()).isTrue();
    assertThat(map.xlate().pageSizeBytes()).isEqualTo(4096);
    assertThat(map.reflected()).isNull();
    assertThat(map.unmappedVpage()).isNull(); // NOHPTE: nothing to flush first
    assertThat(map.gfnToPfn().guestFrame()).isEqualTo(5);
    assertThat(map.gfnToPfn().mmio()).isFalse();
    assertThat(map.gfnToPfn().cow()).isFalse();
    long pfn = map.gfnToPfn().hostPfn();
    // strict: read-only until the guest C bit is set
    assertThat(map.map()).isEqualTo(new AccessTrace.MapTrace(pfn, false, false));
    assertThat(t.hostPfn()).isEqualTo(pfn);
    assertThat(t.guestRealAddr()).isEqualTo((5L << 12) | 0x20);
    assertThat(t.loadedValue()).isEqualTo(Fingerprint.loadWord(A, 0x20));
    assertThat(t.rcBefore()).isNull(); // no guest HPTE before the demand map
    assertThat(t.rcAfter()).isEqualTo(new AccessTrace.Rc(true, false));
    assertThat(m.status(0).state()).isEqualTo(Vcpu.VcpuState.IDLE);
    assertThat(m.leasesHeld(0)).isZero();

    AccessTrace hit = trace(m, 2, load(ea(5, 0x28)));
    assertThat(hit.tlbHit()).isTrue();
    assertThat(hit.completed()).isTrue();
    assertThat(hit.faults()).isEmpty();
    assertThat(hit.hostPfn()).isEqualTo(pfn);
    assertThat(hit.guestRealAddr()).isEqualTo(-1); // a hit does not know the guest-real address
    assertThat(hit.loadedValue()).isEqualTo(Fingerprint.loadWord(A, 0x28));
    assertThat(hit.rcBefore()).isEqualTo(new AccessTrace.Rc(true, false));
    assertThat(hit.rcAfter()).isEqualTo(new AccessTrace.Rc(true, false));
    // the same request id again: answered from memory, nothing re-run
    long accesses = m.status(0).counters().get(Counter.ACCESSES);
    assertThat(trace(m, 2, load(ea(5, 0x28)))).isEqualTo(hit);
    assertThat(m.status(0).counters().get(Counter.ACCESSES)).isEqualTo(accesses);
  }

  @Test
  void traceAccess_storeOnAReadOnlyZeroPage_protfaultUnmapCowMapWritable_andAnMmioLoad() {
    FlowMesh m = mesh(Policy.STRICT, 1, 2);
    m.run(0, load(ea(7, 0))); // the zero page, mapped read-only
    AccessTrace st = trace(m, 1, store(ea(7, 0x30), 9));

    assertThat(st.completed()).isTrue();
    AccessTrace.FaultTrace pf = st.faults().get(0);
    assertThat(pf.kind()).isEqualTo(AccessTrace.FaultKind.PROTFAULT);
    assertThat(pf.xlate().status()).isEqualTo(XlateStatus.OK);
    assertThat(pf.xlate().mayWrite()).isTrue();
    assertThat(pf.unmappedVpage()).isEqualTo(pf.xlate().vpage());
    assertThat(pf.gfnToPfn().writable()).isTrue();
    assertThat(pf.gfnToPfn().cow()).isTrue(); // the zero page was copied
    long copy = pf.gfnToPfn().hostPfn();
    assertThat(copy).isNotEqualTo(PageFrames.ZERO_PFN);
    // strict: the COW's own invalidation moved the notifier sequence: the guard refuses the map
    // and the vCPU re-faults (NOHPTE), then maps the copy writable
    assertThat(pf.map()).isEqualTo(new AccessTrace.MapTrace(copy, false, true));
    AccessTrace.FaultTrace again = st.faults().get(1);
    assertThat(again.kind()).isEqualTo(AccessTrace.FaultKind.NOHPTE);
    assertThat(again.gfnToPfn().cow()).isFalse();
    assertThat(again.gfnToPfn().notifierSeq()).isGreaterThan(pf.gfnToPfn().notifierSeq());
    assertThat(again.map()).isEqualTo(new AccessTrace.MapTrace(copy, true, false));
    assertThat(st.faults()).hasSize(2);
    assertThat(st.hostPfn()).isEqualTo(copy);
    assertThat(st.loadedValue()).isZero(); // a store loads nothing
    assertThat(st.rcBefore()).isEqualTo(new AccessTrace.Rc(true, false));
    assertThat(st.rcAfter()).isEqualTo(new AccessTrace.Rc(true, true));
    // the store reached the frame before the trace was answered
    assertThat(m.readFrame(0, 7)).isEqualTo(Fingerprint.mix(Fingerprint.ZERO, 0x30, 9));

    long gfn = FlowMesh.MEMORY_PAGES + 0x40; // outside every memslot
    long ea = ea(FlowMesh.PAGES + 3, 0x10);
    TestProbe<GuestMmu.EnterReply> entered = kit.createTestProbe();
    m.vm(0).guest.tell(new GuestMmu.EnterHpte(m.nextId(), 0, ea, gfn, 2, entered.getRef()));
    entered.expectMessageClass(GuestMmu.HpteEntered.class);
    AccessTrace mmio = trace(m, 2, load(ea));
    assertThat(mmio.completed()).isTrue();
    assertThat(mmio.faults()).hasSize(1);
    AccessTrace.FaultTrace f = mmio.faults().get(0);
    assertThat(f.kind()).isEqualTo(AccessTrace.FaultKind.NOHPTE);
    assertThat(f.gfnToPfn().mmio()).isTrue();
    assertThat(f.gfnToPfn().hostPfn()).isEqualTo(-1);
    assertThat(f.map()).isNull();
    assertThat(f.mmioAddr()).isEqualTo((gfn << 12) | 0x10);
    assertThat(mmio.guestRealAddr()).isEqualTo((gfn << 12) | 0x10);
    assertThat(mmio.hostPfn()).isEqualTo(-1);
    assertThat(mmio.loadedValue()).isZero();
    assertThat(mmio.rcAfter()).isEqualTo(new AccessTrace.Rc(true, false));
    assertThat(m.leasesHeld(0)).isZero();
  }
}
