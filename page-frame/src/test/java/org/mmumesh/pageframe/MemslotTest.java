package org.mmumesh.pageframe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Memslots, their generations and the SRCU-like lease protocol (spec 5.1, 8.8 TV61). */
class MemslotTest {
  private PageFrames pf;
  private final List<Long> completed = new ArrayList<>();
  private final List<long[]> events = new ArrayList<>();

  @BeforeEach
  void setUp() {
    pf = new PageFrames();
    pf.createVm(0);
    pf.addSlotUpdateListener((vm, t) -> completed.add(t));
    pf.addNotifierListener((vm, g0, g1) -> events.add(new long[] {vm, g0, g1}));
  }

  @Test
  void overlappingSlot_isRejectedNamingSlotAndRange_andNothingChanges() {
    pf.addSlot(0, 3, 0x100, 0x10, 0, false);
    long gen = pf.slotGeneration(0);
    assertThatThrownBy(() -> pf.addSlot(0, 4, 0x10F, 2, 0x100, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("memslot 3")
        .hasMessageContaining("0x100-0x10f");
    assertThat(pf.slotGeneration(0)).isEqualTo(gen);
    assertThat(pf.slots(0)).hasSize(1);
    assertThat(pf.slotOf(0, 0x110)).isNull();
  }

  @Test
  void moveOntoAnotherSlot_isRejected_andNothingChanges() {
    pf.addSlot(0, 1, 0x100, 0x10, 0, false);
    pf.addSlot(0, 2, 0x200, 0x10, 0x10, false);
    assertThatThrownBy(() -> pf.beginMoveSlot(0, 2, 0x108))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("memslot 1");
    assertThat(pf.slotOf(0, 0x200).id()).isEqualTo(2);
  }

  @Test
  void removal_isVisibleAtOnce_butCompletesOnlyWhenOldLeaseReleased_TV61() {
    pf.addSlot(0, 1, 0x100, 0x10, 0, false);
    completed.clear();
    long lease = pf.leaseAcquire(0); // vcpu0 inside handle_pagefault
    PfnResult before = pf.gfnToPfnProt(0, 0x100, true);
    assertThat(before.ok()).isTrue();
    long ticket = pf.beginRemoveSlot(0, 1);
    // a lookup after publication already sees the new array
    assertThat(pf.gfnToPfnProt(0, 0x100, false).status()).isEqualTo(PfnStatus.NOSLOT);
    // the writer waits for vcpu0: the removal has not completed
    assertThat(pf.isComplete(ticket)).isFalse();
    assertThat(completed).isEmpty();
    // the in-flight fault's pfn is stale: the notifier sequence moved on (retry guard)
    assertThat(pf.notifierSeq(0)).isNotEqualTo(before.notifierSeq());
    assertThat(events).anySatisfy(e -> assertThat(e).containsExactly(0, 0x100, 0x110));
    // a lease taken after publication does not hold the writer up
    long newLease = pf.leaseAcquire(0);
    pf.leaseRelease(0, lease);
    assertThat(pf.isComplete(ticket)).isTrue();
    assertThat(completed).containsExactly(ticket);
    pf.leaseRelease(0, newLease);
    assertThat(pf.leasesHeld(0)).isZero();
  }

  @Test
  void update_withNoLeasesHeld_completesImmediately() {
    long t = pf.addSlot(0, 1, 0x100, 0x10, 0, false);
    assertThat(pf.isComplete(t)).isTrue();
    assertThat(completed).containsExactly(t);
  }

  @Test
  void twoPendingUpdates_completeInOrderAsLeasesDrain() {
    pf.addSlot(0, 1, 0x100, 0x10, 0, false);
    pf.addSlot(0, 2, 0x200, 0x10, 0x10, false);
    completed.clear();
    long l1 = pf.leaseAcquire(0);
    long t1 = pf.beginMoveSlot(0, 1, 0x400);
    long l2 = pf.leaseAcquire(0);
    long t2 = pf.beginRemoveSlot(0, 2);
    assertThat(pf.slotOf(0, 0x400).id()).isEqualTo(1);
    pf.leaseRelease(0, l2);
    assertThat(pf.isComplete(t1)).isFalse();
    assertThat(pf.isComplete(t2)).isFalse(); // l1 is older than both
    pf.leaseRelease(0, l1);
    assertThat(completed).containsExactly(t1, t2);
  }

  @Test
  void releasingUnknownLease_isRejected() {
    assertThatThrownBy(() -> pf.leaseRelease(0, 42))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lease");
  }

  @Test
  void slotArguments_areChecked() {
    assertThatThrownBy(() -> pf.addSlot(0, 512, 0, 1, 0, false))
        .hasMessageContaining("slotId")
        .hasMessageContaining("511");
    assertThatThrownBy(() -> pf.addSlot(0, 1, 0, 0, 0, false)).hasMessageContaining("npages");
    pf.addSlot(0, 1, 0, 1, 0, false);
    assertThatThrownBy(() -> pf.addSlot(0, 1, 10, 1, 0, false))
        .hasMessageContaining("already exists");
    assertThatThrownBy(() -> pf.beginRemoveSlot(0, 9)).hasMessageContaining("does not exist");
  }

  @Test
  void aliasedHva_notifierReportsEveryGfnMappingIt() {
    pf.addSlot(0, 1, 0x100, 4, 0, false);
    pf.addSlot(0, 2, 0x800, 4, 0, false); // same host pages
    pf.populate(0, 0x101, 5);
    events.clear();
    pf.zapPages(0, 1, 1);
    assertThat(events).hasSize(2);
    assertThat(events.get(0)).containsExactly(0, 0x101, 0x102);
    assertThat(events.get(1)).containsExactly(0, 0x801, 0x802);
    pf.checkInvariants();
  }

  @Test
  void sparseHostAddresses_costOnlyTheChunksTouched() {
    pf.addSlot(0, 1, 0, 16, PageFrames.MAX_HVA_PAGE - 15, false);
    pf.populate(0, 15, 7);
    assertThat(pf.ptePfn(0, PageFrames.MAX_HVA_PAGE)).isPositive();
    assertThat(pf.nextAnonPage(0, 0, Long.MAX_VALUE)).isEqualTo(PageFrames.MAX_HVA_PAGE);
    pf.checkInvariants();
  }
}
