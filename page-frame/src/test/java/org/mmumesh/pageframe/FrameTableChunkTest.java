package org.mmumesh.pageframe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The chunked frame table: chunks released when their last frame goes, pfns stable and reused. */
class FrameTableChunkTest {
  private static final int CHUNK = FrameTable.CHUNK;

  /** Allocates frames until pfn {@code lastPfn} is handed out, checking pfns come out dense. */
  private static void fillTo(FrameTable t, int lastPfn) {
    for (int expected = t.top(); expected <= lastPfn; expected++) {
      assertThat(t.alloc(expected)).isEqualTo(expected);
    }
  }

  @Test
  void alloc_handsOutDensePfns_fromZeroPageOn_acrossChunks() {
    FrameTable t = new FrameTable(16);
    fillTo(t, 3 * CHUNK + 5);
    assertThat(t.top()).isEqualTo(3 * CHUNK + 6);
    assertThat(t.allocated()).isEqualTo(3 * CHUNK + 6);
    assertThat(t.chunksLive()).isEqualTo(4);
    assertThat(t.fingerprint(2 * CHUNK + 7)).isEqualTo(2 * CHUNK + 7);
    assertThat(t.isZero(FrameTable.ZERO_PFN)).isTrue();
    assertThat(t.capacity()).isEqualTo(4L * CHUNK);
  }

  @Test
  void free_releasesChunk_whenItsLastFrameGoes_andKeepsOtherPfns() {
    FrameTable t = new FrameTable(16);
    fillTo(t, 3 * CHUNK - 1); // chunks 0, 1, 2 full
    for (int pfn = CHUNK; pfn < 2 * CHUNK - 1; pfn++) {
      t.free(pfn);
    }
    assertThat(t.chunksLive()).isEqualTo(3);
    t.free(2 * CHUNK - 1); // last frame of chunk 1
    assertThat(t.chunksLive()).isEqualTo(2);
    assertThat(t.chunksReleased()).isEqualTo(1);
    assertThat(t.capacity()).isEqualTo(2L * CHUNK);
    assertThat(t.isLive(CHUNK + 3)).isFalse();
    assertThat(t.isFree(CHUNK + 3)).isTrue();
    assertThat(t.mapCount(CHUNK + 3)).isZero();
    // frames of the other chunks are untouched
    assertThat(t.isLive(2 * CHUNK + 9)).isTrue();
    assertThat(t.fingerprint(2 * CHUNK + 9)).isEqualTo(2 * CHUNK + 9);
    assertThat(t.allocated()).isEqualTo(2 * CHUNK);
  }

  @Test
  void alloc_reusesLowestChunkWithRoom_thenItsNewestFreeFrame() {
    FrameTable t = new FrameTable(16);
    fillTo(t, 3 * CHUNK - 1);
    t.free(2 * CHUNK + 4);
    t.free(CHUNK + 8);
    t.free(CHUNK + 2);
    assertThat(t.alloc(42)).isEqualTo(CHUNK + 2); // lowest chunk, LIFO inside it
    assertThat(t.alloc(43)).isEqualTo(CHUNK + 8);
    assertThat(t.alloc(44)).isEqualTo(2 * CHUNK + 4);
    assertThat(t.alloc(45)).isEqualTo(3 * CHUNK); // every chunk full: a new one
    assertThat(t.fingerprint(CHUNK + 8)).isEqualTo(43);
  }

  @Test
  void alloc_afterRelease_recreatesChunkAtSamePfns_withNewerGenerations() {
    FrameTable t = new FrameTable(16);
    fillTo(t, 2 * CHUNK - 1);
    int victim = CHUNK + 17;
    int genBefore = t.generation(victim);
    for (int round = 0; round < 3; round++) { // churn one frame so its generation moves ahead
      t.free(victim);
      assertThat(t.alloc(1)).isEqualTo(victim);
    }
    int genLive = t.generation(victim);
    assertThat(genLive).isEqualTo(genBefore + 3);
    for (int pfn = CHUNK; pfn < 2 * CHUNK; pfn++) {
      t.free(pfn);
    }
    assertThat(t.chunksLive()).isEqualTo(1);
    assertThat(t.generation(victim)).isGreaterThan(genLive);
    // the released chunk is the lowest with room: its pfns come back, from index 0
    assertThat(t.alloc(7)).isEqualTo(CHUNK);
    assertThat(t.chunksLive()).isEqualTo(2);
    for (int expected = CHUNK + 1; expected <= victim; expected++) {
      assertThat(t.alloc(expected)).isEqualTo(expected);
    }
    assertThat(t.isLive(victim)).isTrue();
    // a stable node recorded while the frame was live (generation genLive) sees a mismatch
    assertThat(t.generation(victim)).isGreaterThan(genLive);
    assertThat(t.isLive(victim + 1)).isFalse(); // never used in this incarnation
    assertThat(t.isFree(victim + 1)).isTrue();
  }

  @Test
  void free_rejectsZeroPage_freeFrames_andFramesOfReleasedChunks() {
    FrameTable t = new FrameTable(16);
    fillTo(t, CHUNK + 1);
    t.free(CHUNK);
    t.free(CHUNK + 1);
    assertThatThrownBy(() -> t.free(FrameTable.ZERO_PFN)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> t.free(CHUNK)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> t.free(5 * CHUNK)).isInstanceOf(IllegalStateException.class);
    int p = t.alloc(3);
    t.incMap(p);
    assertThatThrownBy(() -> t.free(p)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void firstChunk_startsSmall_andGrowsToAFullChunk() {
    FrameTable t = new FrameTable(16);
    assertThat(t.capacity()).isEqualTo(16);
    fillTo(t, 100);
    assertThat(t.capacity()).isEqualTo(128);
    fillTo(t, CHUNK + 1);
    assertThat(t.capacity()).isEqualTo(2L * CHUNK);
  }

  @Test
  void pageFrames_releaseChunks_whenKsmStyleMergingFreesTheirFrames() {
    // 3 chunks of private frames in one VM, then every page shares one frame: only the chunks
    // holding the survivors stay
    PageFrames pf = new PageFrames(16);
    pf.createVm(0);
    int pages = 3 * CHUNK;
    pf.addSlot(0, 0, 0, pages, 0, false);
    for (int p = 0; p < pages; p++) {
      pf.populate(0, p, 1000 + (p % 7));
    }
    assertThat(pf.framesAllocated()).isEqualTo(pages + 1);
    assertThat(pf.frameCapacity()).isEqualTo(4L * CHUNK);
    for (int p = 7; p < pages; p++) {
      pf.cowShare(0, p % 7, 0, p);
    }
    pf.checkInvariants();
    assertThat(pf.framesAllocated()).isEqualTo(8);
    assertThat(pf.frameCapacity()).isEqualTo(CHUNK); // chunks 1 to 3 released
    pf.populate(0, 9, 55); // a private frame again: reuses a freed pfn of the first chunk
    assertThat(pf.ptePfn(0, 9)).isLessThan(CHUNK);
    pf.checkInvariants();
  }
}
