package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The facade's memslot table ({@link Memslots}), without a cluster. */
class MemslotsTest {

  private static Simulation.Slot slot(int id, long gfnStart, long pages) {
    return new Simulation.Slot(id, gfnStart, pages, 1000 + gfnStart, false, 0);
  }

  @Test
  void created_listsMemslotZeroOverTheVmsMemory_atItsGeneration() {
    Memslots m = new Memslots();
    m.created(4, 256, 3);

    assertThat(m.of(4)).containsExactly(new Simulation.Slot(0, 0, 256, 0, false, 3));
    assertThat(m.ids(4)).containsExactly(0);
    assertThat(m.of(5)).isEmpty();
  }

  @Test
  void reserve_refusesATakenIdAndAnOverlap_namingTheField_andKeepsTheTable() {
    Memslots m = new Memslots();
    m.created(1, 256, 1);

    assertThatThrownBy(() -> m.reserve(1, slot(0, 1000, 4)))
        .isInstanceOfSatisfying(
            SimulationException.class,
            e -> assertThat(e.kind()).isEqualTo(SimulationException.Kind.BAD_FIELD))
        .hasMessageContaining("memslot.slot_id")
        .hasMessageContaining("0 is taken in vm 1");
    assertThatThrownBy(() -> m.reserve(1, slot(1, 255, 4)))
        .isInstanceOf(SimulationException.class)
        .hasMessageContaining("gfns [255, 259) overlap slot 0 [0, 256)");
    assertThat(m.ids(1)).containsExactly(0);
  }

  @Test
  void added_recordsTheGeneration_refused_freesTheIdAndRange() {
    Memslots m = new Memslots();
    m.created(1, 256, 1);
    m.reserve(1, slot(1, 256, 16));
    m.added(1, slot(1, 256, 16), 2);
    m.reserve(1, slot(2, 512, 16));
    m.refused(1, 2);

    assertThat(m.of(1)).extracting(Simulation.Slot::generation).containsExactly(1L, 2L);
    m.reserve(1, slot(2, 512, 16)); // free again: no exception
    assertThat(m.ids(1)).containsExactly(0, 1, 2);
  }

  @Test
  void removed_dropsTheSlotAndAnswersTheNextGeneration_require_refusesAnUnknownOne() {
    Memslots m = new Memslots();
    m.created(1, 256, 5);

    m.require(1, 0);
    assertThat(m.removed(1, 0)).isEqualTo(6);
    assertThat(m.of(1)).isEmpty();
    assertThatThrownBy(() -> m.require(1, 0))
        .isInstanceOfSatisfying(
            SimulationException.class,
            e -> assertThat(e.kind()).isEqualTo(SimulationException.Kind.NOT_FOUND))
        .hasMessageContaining("vm 1 memslot 0");
  }

  @Test
  void requireInSlots_acceptsARangeAcrossAdjacentSlots_andNamesTheFirstGfnOutside() {
    Memslots m = new Memslots();
    m.created(1, 256, 1);
    m.reserve(1, slot(1, 256, 16));
    m.added(1, slot(1, 256, 16), 2);
    m.reserve(1, slot(2, 300, 4));
    m.added(1, slot(2, 300, 4), 3);

    m.requireInSlots(1, 250, 22); // [250, 272): slot 0 then slot 1
    assertThatThrownBy(() -> m.requireInSlots(1, 250, 60))
        .isInstanceOfSatisfying(
            SimulationException.class,
            e -> assertThat(e.kind()).isEqualTo(SimulationException.Kind.BAD_FIELD))
        .hasMessageContaining("guest_frame_start")
        .hasMessageContaining("gfn 272 of [250, 310) is in no memslot of vm 1");
  }

  @Test
  void deleted_forgetsTheVmsSlots() {
    Memslots m = new Memslots();
    m.created(1, 256, 1);

    m.deleted(1);

    assertThat(m.of(1)).isEmpty();
    assertThatThrownBy(() -> m.requireInSlots(1, 0, 1)).isInstanceOf(SimulationException.class);
  }
}
