package org.mmumesh.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MeshEventBusTest {

  private static MeshEvent fault(int vm) {
    return new MeshEvent(
        MeshEvent.Kind.FAULT, MeshEvent.NONE, vm, 0, 0x1000, -1, -1, "NOHPTE load");
  }

  @Test
  void inactive_withoutWatchers_andPublishIsANoOp() {
    MeshEventBus bus = new MeshEventBus();
    assertThat(bus.active()).isFalse();
    bus.publish(fault(1));
    assertThat(bus.sinkFailures()).isZero();
  }

  @Test
  void wants_isTheUnionOfTheFiltersByKindAndVm_soPublishersBuildOnlyWantedEvents() {
    MeshEventBus bus = new MeshEventBus();
    assertThat(bus.wants(MeshEvent.Kind.FAULT, 1)).isFalse();
    bus.setWatchers(
        List.of(
            new MeshEventBus.Watcher(
                new MeshEvent.Filter(Set.of(MeshEvent.Kind.MERGE), MeshEvent.NONE, MeshEvent.NONE),
                e -> {}),
            new MeshEventBus.Watcher(
                new MeshEvent.Filter(Set.of(MeshEvent.Kind.MAP), MeshEvent.NONE, 2), e -> {}),
            new MeshEventBus.Watcher(
                new MeshEvent.Filter(Set.of(MeshEvent.Kind.FAULT), 5, MeshEvent.NONE), e -> {})));
    assertThat(bus.wants(MeshEvent.Kind.MERGE, 9)).isTrue();
    assertThat(bus.wants(MeshEvent.Kind.MAP, 2)).isTrue();
    assertThat(bus.wants(MeshEvent.Kind.MAP, 3)).as("another VM's maps").isFalse();
    assertThat(bus.wants(MeshEvent.Kind.MAP, MeshEvent.NONE)).isFalse();
    // a host filter is applied at publish (the publisher may not know its host): every VM's
    assertThat(bus.wants(MeshEvent.Kind.FAULT, 7)).isTrue();
    assertThat(bus.wants(MeshEvent.Kind.COW_BREAK, 2)).as("a kind nobody watches").isFalse();
    assertThat(bus.wants(MeshEvent.Kind.INVALIDATION, 2)).isFalse();
    bus.setWatchers(List.of(new MeshEventBus.Watcher(MeshEvent.Filter.ALL, e -> {})));
    for (MeshEvent.Kind k : MeshEvent.Kind.values()) {
      assertThat(bus.wants(k, 4)).isTrue();
    }
    bus.setWatchers(List.of());
    assertThat(bus.wants(MeshEvent.Kind.FAULT, 4)).isFalse();
  }

  @Test
  void publish_deliversToTheWatchersWhoseFilterMatches() {
    MeshEventBus bus = new MeshEventBus();
    List<MeshEvent> all = new ArrayList<>();
    List<MeshEvent> vm2Maps = new ArrayList<>();
    bus.setWatchers(
        List.of(
            new MeshEventBus.Watcher(MeshEvent.Filter.ALL, all::add),
            new MeshEventBus.Watcher(
                new MeshEvent.Filter(Set.of(MeshEvent.Kind.MAP), MeshEvent.NONE, 2),
                vm2Maps::add)));
    MeshEvent map2 = new MeshEvent(MeshEvent.Kind.MAP, 0, 2, 1, 0x2000, 2, 77, "map ro");
    bus.publish(fault(2));
    bus.publish(map2);
    bus.publish(new MeshEvent(MeshEvent.Kind.MAP, 0, 3, 1, 0x2000, 2, 78, "map rw"));
    assertThat(bus.active()).isTrue();
    assertThat(all).hasSize(3);
    assertThat(vm2Maps).containsExactly(map2);
  }

  @Test
  void publish_fillsTheHostFromTheResolver_andAHostFilterSeesIt() {
    MeshEventBus bus = new MeshEventBus();
    List<MeshEvent> host5 = new ArrayList<>();
    bus.setWatchers(
        List.of(
            new MeshEventBus.Watcher(
                new MeshEvent.Filter(Set.of(), 5, MeshEvent.NONE), host5::add)));
    bus.publish(fault(1)); // host unknown: does not match a host filter
    bus.setHostOfVm(vm -> vm == 1 ? 5 : MeshEvent.NONE);
    bus.publish(fault(1));
    bus.publish(fault(2));
    assertThat(host5).extracting(MeshEvent::hostId).containsExactly(5);
  }

  @Test
  void aThrowingSink_isCounted_andOtherWatchersStillGetTheEvent() {
    MeshEventBus bus = new MeshEventBus();
    List<MeshEvent> got = new ArrayList<>();
    bus.setWatchers(
        List.of(
            new MeshEventBus.Watcher(
                MeshEvent.Filter.ALL,
                e -> {
                  throw new IllegalStateException("boom");
                }),
            new MeshEventBus.Watcher(MeshEvent.Filter.ALL, got::add)));
    bus.publish(fault(1));
    assertThat(bus.sinkFailures()).isEqualTo(1);
    assertThat(got).hasSize(1);
  }

  @Test
  void of_givesOneBusPerNodeByIdentity_andForgetDropsIt() {
    Object a = new Object();
    Object b = new Object();
    MeshEventBus busA = MeshEventBus.of(a);
    assertThat(MeshEventBus.of(a)).isSameAs(busA);
    assertThat(MeshEventBus.of(b)).isNotSameAs(busA);
    busA.setWatchers(List.of(new MeshEventBus.Watcher(MeshEvent.Filter.ALL, e -> {})));
    MeshEventBus.forget(a);
    assertThat(busA.active()).isFalse();
    assertThat(MeshEventBus.of(a)).isNotSameAs(busA);
  }

  @Test
  void filter_rejectsIdsBelowNone_namingTheField() {
    assertThatThrownBy(() -> new MeshEvent.Filter(Set.of(), -2, MeshEvent.NONE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hostId");
  }
}
