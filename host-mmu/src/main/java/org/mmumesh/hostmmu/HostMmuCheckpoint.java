package org.mmumesh.hostmmu;

import org.mmumesh.checkpoint.CheckpointMismatchException;
import org.mmumesh.checkpoint.v1.HostMmuConfigState;
import org.mmumesh.checkpoint.v1.HostMmuState;

/**
 * Writes a {@link HostMmuCore} to a {@link HostMmuState} and builds one back (issue 13).
 *
 * <h2>What is written</h2>
 *
 * The configuration; the host HTAB ({@link HostHtab}: the slots holding anything, sparse, with the
 * eviction cursor, the valid count, the last eviction and the counters); per vCPU the shadow-PTE
 * cache ({@link ShadowPteCache}: every entry below the high-water mark with its hash-list links and
 * free list as they are, so flushes visit entries in the same order and the same entries are handed
 * out next) and the SID map ({@link SidMap}: its 512 slots and the VSID allocator's cursor); the
 * core's counters and the SID-map toggle.
 *
 * <h2>Not written (wiring or derived)</h2>
 *
 * The incremental audit and its dirty sets (re-attached on first use, checking everything), the
 * fault-injection test hook, the caches' HTAB remover (a method reference to the HTAB), array
 * capacities, bucket heads (derived from the back links) and everything the configuration fixes
 * (kind, sizes, the VSID allocators' ranges and pools).
 */
final class HostMmuCheckpoint {
  private HostMmuCheckpoint() {}

  static HostMmuState write(HostMmuCore core) {
    HostMmuState.Builder b =
        HostMmuState.newBuilder()
            .setConfig(config(core.config()))
            .setHtab(core.htab().checkpoint())
            .setStats(core.ownStats().checkpoint())
            .setSidMapToggle(core.toggle().checkpoint());
    for (int v = 0; v < core.config().vcpus(); v++) {
      b.addCaches(core.cache(v).checkpoint());
      b.addSidMaps(core.sidMap(v).checkpoint());
    }
    return b.build();
  }

  static HostMmuConfigState config(HostMmuConfig c) {
    return HostMmuConfigState.newBuilder()
        .setKind(
            c.kind().is64()
                ? org.mmumesh.checkpoint.v1.HostKind.HOST_KIND_BOOK3S_64
                : org.mmumesh.checkpoint.v1.HostKind.HOST_KIND_BOOK3S_32)
        .setVcpus(c.vcpus())
        .setPtegCount(c.ptegCount())
        .setQ5(c.q5())
        .setFirstContextId(c.firstContextId())
        .setEsidBits(c.esidBits())
        .setPoolContexts(c.poolContexts())
        .build();
  }

  static HostMmuCore read(
      HostMmuState s, HostMmuConfig config, SidMapToggle toggle, boolean ownToggle) {
    HostMmuConfigState want = config(config);
    HostMmuConfigState got = s.getConfig();
    for (var f : HostMmuConfigState.getDescriptor().getFields()) {
      if (!got.getField(f).equals(want.getField(f))) {
        throw CheckpointMismatchException.of(
            "config." + f.getName(), got.getField(f), want.getField(f));
      }
    }
    int n = config.vcpus();
    if (s.getCachesCount() != n || s.getSidMapsCount() != n) {
      throw CheckpointMismatchException.of(
          "caches/sid_maps count",
          s.getCachesCount() + "/" + s.getSidMapsCount(),
          n + " (config.vcpus)");
    }
    HostMmuCore core = new HostMmuCore(config, toggle);
    core.htab().restore(s.getHtab());
    for (int v = 0; v < n; v++) {
      core.cache(v).restore(s.getCaches(v), "caches[" + v + "]");
      core.sidMap(v).restore(s.getSidMaps(v), "sid_maps[" + v + "]");
    }
    core.ownStats().restore(s.getStats(), "stats");
    InvariantReport report = core.checkInvariants();
    if (!report.violations().isEmpty()) {
      throw new CheckpointMismatchException(
          "htab, caches: the host HTAB and the shadow caches disagree: "
              + report.violations().subList(0, Math.min(5, report.violations().size())));
    }
    if (ownToggle) {
      toggle.restoreFrom(s.getSidMapToggle());
    }
    return core;
  }
}
