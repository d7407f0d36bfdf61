package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link FootprintEstimator}, {@link MemoryBudget} and {@link Admission}: the pure cores. */
class AdmissionTest {

  /** The creation storm's VM: 64 vCPUs, 65,536-entry TLBs, 16 MiB, on a 64-bit host. */
  private static final FootprintEstimator.VmShape STORM =
      new FootprintEstimator.VmShape(false, true, 4096, 64, 65536, 1 << 14, 256 * 1024, false);

  @Test
  void vmFootprint_sumsEachStructure_fromTheRequestSizes() {
    FootprintEstimator.Footprint f = FootprintEstimator.vm(STORM);
    long tlb = 64L * 65536 * 25;
    long shadow = 64L * (90_240 + 32_768L * 142);
    long vcpu = 64L * FootprintEstimator.VCPU_FIXED_BYTES;
    long hostHtab = (1L << 14) * 8 * 28 * 2; // G1 humongous regions
    long guestHtab = 256 * 1024;
    long pages = 4096L * 21;
    assertThat(f.bytes())
        .isEqualTo(
            tlb + shadow + vcpu + hostHtab + guestHtab + pages + FootprintEstimator.VM_FIXED_BYTES);
    assertThat(f.largest().what()).startsWith("shadow-PTE caches");
  }

  @Test
  void vmFootprint_namesTheTlb_whenTheTlbDrivesIt() {
    FootprintEstimator.VmShape oneVcpuBigTlb =
        new FootprintEstimator.VmShape(false, true, 4096, 1, 65536, 1 << 11, 256 * 1024, false);
    // 1.6 MiB of TLB, 4.5 MiB of shadow cache: the cache still leads; a 32-bit guest's HTAB
    // words are stored in longs, twice their bytes
    FootprintEstimator.Part p = FootprintEstimator.vm(oneVcpuBigTlb).largest();
    assertThat(p.drivenBy()).isEqualTo("vcpu_count 1");
    FootprintEstimator.VmShape guest32 =
        new FootprintEstimator.VmShape(true, false, 4096, 1, 1024, 1 << 10, 64 * 1024, false);
    assertThat(part(FootprintEstimator.vm(guest32), "guest HTAB")).isEqualTo(128 * 1024);
    assertThat(
            part(FootprintEstimator.vm(guest32), "shadow-PTE caches (32768 entries each at most)"))
        .isEqualTo(FootprintEstimator.SHADOW_HEADS_BYTES_32 + 32_768L * 134);
  }

  @Test
  void vmFootprint_guestPagesDriveALargeGuest_andMergeableCostsMore() {
    FootprintEstimator.VmShape big =
        new FootprintEstimator.VmShape(false, true, 1L << 24, 1, 1024, 1 << 14, 1L << 28, false);
    FootprintEstimator.Footprint f = FootprintEstimator.vm(big);
    assertThat(f.largest().what()).isEqualTo("guest pages");
    assertThat(f.largest().drivenBy()).isEqualTo("memory_size_bytes " + (1L << 36));
    assertThat(f.largest().bytes()).isEqualTo((1L << 24) * 21);
    assertThat(FootprintEstimator.pages(10, true)).isEqualTo(10 * (21 + 51));
  }

  @Test
  void budget_refusesWithTheNumbers_andChangesNothing() {
    MemoryBudget b = new MemoryBudget(100L << 20);
    MemoryBudget.Reservation first = b.reserve("vm 1", "x", 60L << 20);
    assertThatThrownBy(() -> b.reserve("vm 2", FootprintEstimator.vm(STORM)))
        .isInstanceOfSatisfying(
            SimulationException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SimulationException.Kind.LIMIT);
              long asked = FootprintEstimator.vm(STORM).bytes();
              assertThat(e.getMessage())
                  .contains("vm 2 needs " + asked + " bytes (")
                  .contains("41943040 bytes (40.0 MiB) of the node's 104857600 bytes (100.0 MiB)")
                  .contains("driven by vcpu_count 64 (shadow-PTE caches")
                  .contains(MemoryBudget.CONFIG_KEY);
            });
    assertThat(b.reservedBytes()).isEqualTo(60L << 20);
    first.close();
    first.close();
    assertThat(b.reservedBytes()).isZero();
    assertThat(b.leftBytes()).isEqualTo(100L << 20);
  }

  @Test
  void budget_growsAReservation_orRefusesTheGrowth() {
    MemoryBudget b = new MemoryBudget(1000);
    MemoryBudget.Reservation r = b.reserve("vm 1", "x", 400);
    r.grow("load", "y", 500);
    assertThat(r.bytes()).isEqualTo(900);
    assertThatThrownBy(() -> r.grow("load", "y", 101))
        .isInstanceOf(SimulationException.class)
        .hasMessageContaining("load needs 101 bytes");
    assertThat(b.reservedBytes()).isEqualTo(900);
    r.close();
    assertThat(b.reservedBytes()).isZero();
  }

  @Test
  void budget_default_isAShareOfTheHeapMinusWhatIsInUse() {
    assertThat(MemoryBudget.defaultBytes(4000, 1000)).isEqualTo(2000);
    assertThat(MemoryBudget.defaultBytes(1000, 900)).isZero();
    MemoryBudget auto = MemoryBudget.fromConfig(ConfigFactory.empty());
    assertThat(auto.budgetBytes()).isPositive().isLessThan(Runtime.getRuntime().maxMemory());
  }

  @Test
  void budget_fromConfig_readsSizes_andNamesTheKeyWhenBad() {
    assertThat(
            MemoryBudget.fromConfig(ConfigFactory.parseString(MemoryBudget.CONFIG_KEY + " = 4g"))
                .budgetBytes())
        .isEqualTo(4L << 30);
    assertThat(
            MemoryBudget.fromConfig(ConfigFactory.parseString(MemoryBudget.CONFIG_KEY + " = 512m"))
                .budgetBytes())
        .isEqualTo(512L << 20);
    assertThatThrownBy(
            () ->
                MemoryBudget.fromConfig(
                    ConfigFactory.parseString(MemoryBudget.CONFIG_KEY + " = lots")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(MemoryBudget.CONFIG_KEY)
        .hasMessageContaining("allowed: auto, or bytes");
    assertThatThrownBy(
            () ->
                MemoryBudget.fromConfig(
                    ConfigFactory.parseString(MemoryBudget.CONFIG_KEY + " = -1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(MemoryBudget.CONFIG_KEY);
  }

  /** A directory of id sets (present, deleted), as the node's directory holds them. */
  private static class Dir implements Admission.Directory {
    final Set<Integer> hosts = ConcurrentHashMap.newKeySet();
    final Set<Integer> deletedHosts = ConcurrentHashMap.newKeySet();
    final Set<Integer> vms = ConcurrentHashMap.newKeySet();
    final Set<Integer> deletedVms = ConcurrentHashMap.newKeySet();

    @Override
    public Set<Integer> hostIds() {
      return new HashSet<>(hosts);
    }

    @Override
    public boolean hostDeleted(int id) {
      return deletedHosts.contains(id);
    }

    @Override
    public Set<Integer> vmIds() {
      return new HashSet<>(vms);
    }

    @Override
    public boolean vmDeleted(int id) {
      return deletedVms.contains(id);
    }

    void removeHost(int id) {
      deletedHosts.add(id);
      hosts.remove(id);
    }
  }

  @Test
  void admission_countsPendingIds_soABurstAdmitsExactlyTheRoomLeft() throws Exception {
    Dir dir = new Dir();
    dir.hosts.addAll(Set.of(1000, 1001, 1002, 1003));
    Admission a = new Admission(64, 256, MemoryBudget.unlimited(), dir);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Boolean>> results = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      int id = i;
      results.add(
          pool.submit(
              () -> {
                go.await();
                try {
                  a.admitHost(id);
                } catch (SimulationException e) {
                  assertThat(e.kind()).isEqualTo(SimulationException.Kind.LIMIT);
                  assertThat(e.getMessage()).contains("the limit is 64");
                  return false;
                }
                if (id % 2 == 0) {
                  dir.hosts.add(id); // its directory write lands while others are admitted
                }
                return true;
              }));
    }
    go.countDown();
    int admitted = 0;
    for (Future<Boolean> f : results) {
      admitted += f.get(60, TimeUnit.SECONDS) ? 1 : 0;
    }
    pool.shutdown();
    assertThat(admitted).isEqualTo(60);
    assertThat(a.hostCount()).isEqualTo(64);
  }

  /**
   * The 65th host under load: the facade read the directory's ids, then a pending host's write
   * landed and its pending id was dropped, then the stale ids were checked: that host counted
   * nowhere. The directory is read under the admission lock now, and a pending id is dropped only
   * when the directory read shows it: a write landing right after the read stays pending.
   */
  @Test
  void admission_aWriteLandingRightAfterTheDirectoryRead_isStillCounted() {
    Dir dir =
        new Dir() {
          @Override
          public Set<Integer> hostIds() {
            Set<Integer> read = super.hostIds();
            hosts.add(1); // host 1's write lands right after the read
            return read;
          }
        };
    Admission a = new Admission(2, 2, MemoryBudget.unlimited(), dir);
    a.admitHost(1);
    a.admitHost(2);
    assertThatThrownBy(() -> a.admitHost(3))
        .isInstanceOfSatisfying(
            SimulationException.class,
            e -> assertThat(e.kind()).isEqualTo(SimulationException.Kind.LIMIT))
        .hasMessageContaining("hosts: 2 exist or are being created, the limit is 2");
    assertThat(dir.hosts).containsExactly(1);
    assertThat(a.hostCount()).isEqualTo(2);
  }

  @Test
  void admission_createdIdsAreNotCountedTwice_andCertainFailuresFreeTheirSlot() {
    Dir dir = new Dir();
    Admission a = new Admission(2, 2, MemoryBudget.unlimited(), dir);
    a.admitVm(1, STORM);
    dir.vms.add(1); // the directory write landed
    a.admitVm(2, STORM);
    assertThatThrownBy(() -> a.admitVm(3, STORM))
        .hasMessageContaining("vms: 2 exist or are being created, the limit is 2");
    a.vmFailed(2); // nothing was sent, or it was removed everywhere
    a.admitVm(3, STORM);
    assertThat(a.vmCount()).isEqualTo(2);
    assertThatThrownBy(() -> a.admitVm(4, STORM)).isInstanceOf(SimulationException.class);
  }

  /**
   * A create whose write was sent but whose ask failed (timed out under load) keeps its slot: its
   * write may land later. The slot is free once the directory shows the id deleted (the create's
   * removal, a tombstone that refuses the late put).
   */
  @Test
  void admission_aWriteOfUnknownFate_keepsItsSlot_untilTheDirectoryShowsItGone() {
    Dir dir = new Dir();
    Admission a = new Admission(2, 2, MemoryBudget.unlimited(), dir);
    a.admitHost(1); // sent; its ask times out: nobody calls hostFailed
    a.admitHost(2);
    dir.hosts.add(2);
    assertThatThrownBy(() -> a.admitHost(3)).hasMessageContaining("the limit is 2");
    dir.hosts.add(1); // the timed-out write lands late
    assertThatThrownBy(() -> a.admitHost(3)).hasMessageContaining("hosts: 2 exist");
    assertThat(dir.hosts).hasSize(2);
    dir.removeHost(1); // the failed create removes it from every node
    a.admitHost(3);
    assertThat(a.hostCount()).isEqualTo(2);
    dir.hosts.add(3);
    dir.removeHost(2); // a delete frees a slot too
    a.admitHost(4);
    assertThatThrownBy(() -> a.admitHost(5)).hasMessageContaining("the limit is 2");
  }

  @Test
  void admission_releasesMemory_onDeleteAndOnFailure() {
    long vm = FootprintEstimator.vm(STORM).bytes();
    MemoryBudget b = new MemoryBudget(vm + FootprintEstimator.host().bytes());
    Dir dir = new Dir();
    Admission a = new Admission(64, 256, b, dir);
    a.admitHost(1);
    a.admitVm(1, STORM);
    assertThat(b.leftBytes()).isZero();
    dir.vms.add(1);
    assertThatThrownBy(() -> a.admitVm(2, STORM))
        .hasMessageContaining("memory budget: vm 2 needs " + vm + " bytes");
    dir.vms.remove(1);
    dir.deletedVms.add(1);
    a.vmDeleted(1);
    a.admitVm(2, STORM);
    a.vmFailed(2);
    a.hostFailed(1);
    assertThat(b.reservedBytes()).isZero();
    assertThat(a.hostCount()).isZero();
    assertThat(a.vmCount()).isZero();
  }

  @Test
  void admission_chargesLoadedPagesBeyondMemory_once() {
    MemoryBudget b = MemoryBudget.unlimited();
    Admission a = new Admission(64, 256, b, new Dir());
    a.admitVm(1, STORM);
    long base = b.reservedBytes();
    a.chargeLoad(1, 4096, false, 0, 4096); // inside memory: reserved at create
    assertThat(b.reservedBytes()).isEqualTo(base);
    a.chargeLoad(1, 4096, false, 4000, 200); // 104 pages beyond
    assertThat(b.reservedBytes()).isEqualTo(base + 104 * 21);
    a.chargeLoad(
        1, 4096, false, 4100, 100); // 100 - 4 already charged = 96 fresh... none: 4096..4200
    assertThat(b.reservedBytes()).isEqualTo(base + 104 * 21);
    a.chargeLoad(1, 4096, false, 4150, 100); // 4200..4250 fresh
    assertThat(b.reservedBytes()).isEqualTo(base + 154 * 21);
    a.vmDeleted(1);
    assertThat(b.reservedBytes()).isZero();
  }

  @Test
  void intervals_countCoveredPages_andMerge() {
    TreeMap<Long, Long> t = new TreeMap<>();
    Admission.add(t, 10, 20);
    Admission.add(t, 30, 40);
    assertThat(Admission.covered(t, 0, 100)).isEqualTo(20);
    assertThat(Admission.covered(t, 15, 35)).isEqualTo(10);
    assertThat(Admission.covered(t, 20, 30)).isZero();
    Admission.add(t, 20, 30);
    assertThat(t).containsExactly(java.util.Map.entry(10L, 40L));
    Admission.add(t, 5, 12);
    assertThat(t).containsExactly(java.util.Map.entry(5L, 40L));
  }

  private static long part(FootprintEstimator.Footprint f, String what) {
    return f.parts().stream().filter(p -> p.what().equals(what)).findFirst().orElseThrow().bytes();
  }
}
