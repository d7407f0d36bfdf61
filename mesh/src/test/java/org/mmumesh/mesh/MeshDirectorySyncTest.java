package org.mmumesh.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.Test;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;

/**
 * The directory's merge ({@link MeshDirectory#merge}, what {@link DirectoryActor.Sync} applies):
 * tombstones win over entries in any order, snapshots (whole, chunked, stale) and writes converge,
 * and a {@code Sync} crosses nodes (CBOR) within the transport's frame.
 */
class MeshDirectorySyncTest {
  private static final MeshDirectory.HostEntry HOST =
      new MeshDirectory.HostEntry(0, false, 1 << 20);

  private static MeshDirectory.VmEntry vm(int id) {
    return MeshDirectory.ofApi(id, HOST, true, 256, 2, MmuOptions.defaults(Policy.FIXED), 64, true);
  }

  private static MeshDirectory.HostEntry host(int id) {
    return new MeshDirectory.HostEntry(id, id % 2 == 1, 4096L + id);
  }

  @Test
  void deletedVm_staysDeleted_whenAStaleSnapshotOrALatePutBringsItBack() {
    MeshDirectory a = new MeshDirectory();
    a.putHost(HOST);
    a.putVm(vm(7));
    MeshDirectory.Snapshot stale = a.snapshot();
    assertThat(a.removeVm(7)).isTrue();
    assertThat(a.merge(stale)).isFalse();
    assertThat(a.putVm(vm(7))).isFalse();
    assertThat(a.vm(7)).isEmpty();
    assertThat(a.vmDeleted(7)).isTrue();
    // a node that gets the stale snapshot first and the tombstone later ends the same
    MeshDirectory b = new MeshDirectory();
    assertThat(b.merge(stale)).isTrue();
    assertThat(b.vm(7)).isPresent();
    assertThat(b.merge(a.snapshot())).isTrue();
    assertThat(b.vm(7)).isEmpty();
    assertThat(b.snapshot()).isEqualTo(a.snapshot());
  }

  @Test
  void snapshotEntry_neverReplacesAnEntryTheNodeHas_whileAWriterPutDoes() {
    MeshDirectory d = new MeshDirectory();
    MeshDirectory.HostEntry h = new MeshDirectory.HostEntry(3, false, 100);
    MeshDirectory.HostEntry other = new MeshDirectory.HostEntry(3, true, 200);
    d.putHost(h);
    assertThat(d.merge(MeshDirectory.Snapshot.of(List.of(other), null, null, null))).isFalse();
    assertThat(d.host(3)).contains(h);
    assertThat(d.putHost(other)).isTrue();
    assertThat(d.host(3)).contains(other);
    assertThat(d.putHost(other)).isFalse();
  }

  @Test
  void chunks_holdAtMostMaxEach_andMergeToTheWhole() {
    MeshDirectory d = new MeshDirectory();
    for (int i = 0; i < 10; i++) {
      d.putHost(host(i));
      d.putVm(vm(i));
    }
    d.removeVm(3);
    d.removeHost(9);
    MeshDirectory.Snapshot whole = d.snapshot();
    List<MeshDirectory.Snapshot> chunks = whole.chunks(4);
    assertThat(chunks).allSatisfy(c -> assertThat(c.size()).isBetween(1, 4));
    assertThat(chunks.stream().mapToInt(MeshDirectory.Snapshot::size).sum())
        .isEqualTo(whole.size());
    MeshDirectory copy = new MeshDirectory();
    List<MeshDirectory.Snapshot> shuffled = new ArrayList<>(chunks);
    Collections.reverse(shuffled);
    shuffled.forEach(copy::merge);
    assertThat(copy.snapshot()).isEqualTo(whole);
  }

  /**
   * Random writes spread over three nodes (each write reaching a random non-empty subset, in a
   * shuffled order per node), snapshots taken at random moments (so many are stale) merged in a
   * random order, then each node's final snapshot sent to the others: every node ends with the same
   * directory, and an id is present iff it was put and never removed.
   */
  @Property(tries = 200)
  void writesAndSnapshotsInAnyOrder_converge_andDeletionsWin(@ForAll long seed) {
    Random rnd = new Random(seed);
    int ids = 5;
    List<int[]> ops = new ArrayList<>(); // {kind 0..3, id}
    for (int i = 0, n = 1 + rnd.nextInt(30); i < n; i++) {
      ops.add(new int[] {rnd.nextInt(4), rnd.nextInt(ids)});
    }
    MeshDirectory[] nodes = {new MeshDirectory(), new MeshDirectory(), new MeshDirectory()};
    List<List<int[]>> perNode = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    for (int[] op : ops) {
      int mask = 1 + rnd.nextInt(7);
      for (int k = 0; k < 3; k++) {
        if ((mask & (1 << k)) != 0) {
          perNode.get(k).add(op);
        }
      }
    }
    List<MeshDirectory.Snapshot> inFlight = new ArrayList<>();
    for (int k = 0; k < 3; k++) {
      Collections.shuffle(perNode.get(k), rnd);
      for (int[] op : perNode.get(k)) {
        apply(nodes[k], op);
        if (rnd.nextInt(4) == 0) {
          inFlight.addAll(nodes[k].snapshot().chunks(1 + rnd.nextInt(3)));
        }
      }
    }
    Collections.shuffle(inFlight, rnd);
    for (MeshDirectory.Snapshot s : inFlight) {
      nodes[rnd.nextInt(3)].merge(s);
    }
    List<MeshDirectory.Snapshot> last = new ArrayList<>();
    for (MeshDirectory n : nodes) {
      last.add(n.snapshot());
    }
    for (int k = 0; k < 3; k++) {
      for (int j = 0; j < 3; j++) {
        nodes[k].merge(last.get(j));
      }
    }
    for (int id = 0; id < ids; id++) {
      int i = id;
      boolean hostRemoved = ops.stream().anyMatch(o -> o[0] == 1 && o[1] == i);
      boolean hostPut = ops.stream().anyMatch(o -> o[0] == 0 && o[1] == i);
      boolean vmRemoved = ops.stream().anyMatch(o -> o[0] == 3 && o[1] == i);
      boolean vmPut = ops.stream().anyMatch(o -> o[0] == 2 && o[1] == i);
      for (MeshDirectory n : nodes) {
        assertThat(n.host(id).isPresent()).isEqualTo(hostPut && !hostRemoved);
        assertThat(n.hostDeleted(id)).isEqualTo(hostRemoved);
        assertThat(n.vm(id).isPresent()).isEqualTo(vmPut && !vmRemoved);
        assertThat(n.vmDeleted(id)).isEqualTo(vmRemoved);
      }
    }
    assertThat(nodes[1].snapshot()).isEqualTo(nodes[0].snapshot());
    assertThat(nodes[2].snapshot()).isEqualTo(nodes[0].snapshot());
  }

  private static void apply(MeshDirectory d, int[] op) {
    switch (op[0]) {
      case 0 -> d.putHost(host(op[1]));
      case 1 -> d.removeHost(op[1]);
      case 2 -> d.putVm(vm(op[1]));
      default -> d.removeVm(op[1]);
    }
  }

  @Test
  void sync_roundTripsThroughCbor_andAFullChunkFitsTheTransportFrame() {
    ActorTestKit kit = ActorTestKit.create(ConfigFactory.load());
    try {
      MeshDirectory d = new MeshDirectory();
      d.putHost(HOST);
      for (int i = 1; i <= DirectoryActor.SYNC_CHUNK + 1; i++) {
        d.putVm(vm(i));
      }
      d.removeVm(1);
      d.removeHost(5);
      List<MeshDirectory.Snapshot> chunks = d.snapshot().chunks(DirectoryActor.SYNC_CHUNK);
      assertThat(chunks).hasSize(2);
      SerializationTestKit ser = new SerializationTestKit(kit.system());
      for (MeshDirectory.Snapshot c : chunks) {
        DirectoryActor.Sync m = new DirectoryActor.Sync(c);
        assertThat(ser.verifySerialization(m, false)).isEqualTo(m);
      }
      byte[] full =
          SerializationExtension.get(Adapter.toClassic(kit.system()))
              .serialize(new DirectoryActor.Sync(chunks.get(0)))
              .get();
      long frame =
          MeshEngine.config(ConfigFactory.empty())
              .getBytes("pekko.remote.artery.advanced.maximum-frame-size");
      // about 22 KB for 32 VMs (measured): a tenth of the frame
      assertThat((long) full.length).isLessThan(frame / 4);
    } finally {
      kit.shutdownTestKit();
    }
  }
}
