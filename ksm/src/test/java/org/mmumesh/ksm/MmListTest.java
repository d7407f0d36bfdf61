package org.mmumesh.ksm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** MmList: the mm_slots, the rmap_item ids of the regions, and the scan cursor (spec 7.2, 7.3). */
class MmListTest {

  /** A walk where every address of every region holds a present page; records what it is told. */
  private static class EveryPage implements MmList.Walk {
    final List<String> log = new ArrayList<>();

    @Override
    public void passStarted() {
      log.add("start");
    }

    @Override
    public long nextAnonPage(int vm, long from, long end) {
      return from < end ? from : -1;
    }

    @Override
    public void passed(int from, int to) {
      if (from < to) {
        log.add("passed " + from + ".." + to);
      }
    }

    @Override
    public void passEnded() {
      log.add("end");
    }
  }

  private static List<String> visit(MmList mm, EveryPage walk, int steps) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < steps; i++) {
      int id = mm.next(walk);
      out.add(id < 0 ? "-1" : mm.currentVm() + ":" + mm.currentHva() + "#" + id);
    }
    return out;
  }

  @Test
  void next_visitsEveryMergeablePageInListOrder_thenEndsThePass() {
    MmList mm = new MmList();
    mm.addMergeable(1, 10, 2);
    mm.addMergeable(2, 0, 1);
    EveryPage walk = new EveryPage();

    assertThat(visit(mm, walk, 4)).containsExactly("1:10#0", "1:11#1", "2:0#2", "-1");
    assertThat(mm.seqnr()).isEqualTo(1);
    assertThat(walk.log).containsExactly("start", "end");
  }

  @Test
  void addMergeable_duringAPass_insertsTheNewMmBeforeTheCursor_soThisPassSkipsIt() {
    MmList mm = new MmList();
    mm.addMergeable(1, 0, 2);
    EveryPage walk = new EveryPage();
    assertThat(visit(mm, walk, 1)).containsExactly("1:0#0");

    mm.addMergeable(2, 0, 1); // __ksm_enter: list_add_tail before ksm_scan.mm_slot

    assertThat(visit(mm, walk, 2)).containsExactly("1:1#1", "-1");
    assertThat(visit(mm, walk, 3)).containsExactly("2:0#2", "1:0#0", "1:1#1");
  }

  @Test
  void addMergeable_overlappingRange_givesIdsOnlyToTheNewAddresses() {
    MmList mm = new MmList();
    mm.addMergeable(1, 4, 2); // ids 0, 1 for 4, 5
    mm.addMergeable(1, 3, 4); // 3 and 6 are new: ids 2 and 3

    assertThat(mm.idLimit()).isEqualTo(4);
    assertThat(visit(mm, new EveryPage(), 5))
        .containsExactly("1:3#2", "1:4#0", "1:5#1", "1:6#3", "-1");
  }

  @Test
  void removeMergeable_visitsTheRangeAndSplitsTheRegion_keepingIdsOnBothSides() {
    MmList mm = new MmList();
    mm.addMergeable(1, 0, 5); // ids 0..4
    List<String> visited = new ArrayList<>();

    mm.removeMergeable(1, 1, 2, (vm, hva, id) -> visited.add(vm + ":" + hva + "#" + id));

    assertThat(visited).containsExactly("1:1#1", "1:2#2");
    assertThat(mm.regionOfId(1)).isNull();
    assertThat(mm.regionOfId(0).hvaOf(0)).isZero();
    assertThat(mm.regionOfId(4).hvaOf(4)).isEqualTo(4);
    assertThat(visit(mm, new EveryPage(), 4)).containsExactly("1:0#0", "1:3#3", "1:4#4", "-1");
  }

  @Test
  void removeMergeable_underTheCursor_movesItToTheNextRegion() {
    MmList mm = new MmList();
    mm.addMergeable(1, 0, 6);
    EveryPage walk = new EveryPage();
    assertThat(visit(mm, walk, 2)).containsExactly("1:0#0", "1:1#1");

    mm.removeMergeable(1, 2, 2, (vm, hva, id) -> {});

    assertThat(visit(mm, walk, 3)).containsExactly("1:4#4", "1:5#5", "-1");
  }

  @Test
  void next_reportsTheAddressesPassedWithoutAPage() {
    MmList mm = new MmList();
    mm.addMergeable(1, 0, 4);
    EveryPage walk =
        new EveryPage() {
          @Override
          public long nextAnonPage(int vm, long from, long end) {
            return from <= 2 ? 2 : -1; // only page 2 present
          }
        };

    assertThat(visit(mm, walk, 2)).containsExactly("1:2#2", "-1");
    assertThat(walk.log).containsExactly("start", "passed 0..2", "passed 3..4", "end");
  }

  @Test
  void rewindTo_returnsTheSamePageAgain_andResetCursorRestartsAtPassZero() {
    MmList mm = new MmList();
    mm.addMergeable(1, 0, 3);
    EveryPage walk = new EveryPage();
    visit(mm, walk, 2);

    mm.rewindTo(mm.currentHva());
    assertThat(visit(mm, walk, 1)).containsExactly("1:1#1");

    visit(mm, walk, 2); // to the end of the pass
    assertThat(mm.seqnr()).isEqualTo(1);
    mm.resetCursor();
    assertThat(mm.seqnr()).isZero();
    assertThat(visit(mm, walk, 1)).containsExactly("1:0#0");
  }
}
