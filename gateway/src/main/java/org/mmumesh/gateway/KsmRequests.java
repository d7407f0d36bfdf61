package org.mmumesh.gateway;

import java.util.EnumSet;
import java.util.Set;
import org.mmumesh.proto.v1.EventKind;
import org.mmumesh.proto.v1.KsmRun;
import org.mmumesh.proto.v1.RunKsmBatchRequest;
import org.mmumesh.proto.v1.RunKsmPassesRequest;
import org.mmumesh.proto.v1.SetKsmControlRequest;
import org.mmumesh.proto.v1.WatchEventsRequest;

/** Validated KsmService and EventService requests. */
public final class KsmRequests {
  private KsmRequests() {}

  /** New KSM controls; null keeps a value. {@code run} is the kernel's 0, 1 or 2. */
  public record Control(int hostId, Integer run, Long pagesToScan, Long sleepMillisecs) {}

  /** Lockstep passes. */
  public record Passes(int hostId, int passes) {}

  /** One ksmd batch. */
  public record Batch(int hostId, long pages) {}

  /** An event filter; empty kinds = all, null host/vm = all. */
  public record Filter(Set<EventKind> kinds, Integer hostId, Integer vmId) {}

  /** Validates {@code r}. */
  public static Control control(SetKsmControlRequest r) {
    int host = HostRequests.hostId("host_id", r.getHostId());
    Integer run =
        switch (r.getRun()) {
          case KSM_RUN_UNSPECIFIED -> null;
          case KSM_RUN_STOP -> 0;
          case KSM_RUN_MERGE -> 1;
          case KSM_RUN_UNMERGE -> 2;
          default ->
              throw GatewayException.badField(
                  "run",
                  Fields.enumValue(KsmRun::forNumber, r.getRunValue())
                      + " is not allowed; use KSM_RUN_STOP, KSM_RUN_MERGE or KSM_RUN_UNMERGE");
        };
    Long pages =
        r.hasPagesToScan()
            ? Fields.uint64("pages_to_scan", r.getPagesToScan(), 0, Limits.UINT_MAX)
            : null;
    Long sleep =
        r.hasSleepMillisecs()
            ? Fields.uint64(
                "sleep_millisecs",
                r.getSleepMillisecs(),
                Limits.MIN_SLEEP_MILLISECS,
                Limits.UINT_MAX)
            : null;
    return new Control(host, run, pages, sleep);
  }

  /** The proto value of the kernel's run value. */
  public static KsmRun run(int run) {
    return switch (run) {
      case 0 -> KsmRun.KSM_RUN_STOP;
      case 1 -> KsmRun.KSM_RUN_MERGE;
      default -> KsmRun.KSM_RUN_UNMERGE;
    };
  }

  /** Validates {@code r}. */
  public static Passes passes(RunKsmPassesRequest r) {
    return new Passes(
        HostRequests.hostId("host_id", r.getHostId()),
        Fields.uint32("passes", r.getPasses(), 1, Limits.MAX_KSM_PASSES));
  }

  /** Validates {@code r}. */
  public static Batch batch(RunKsmBatchRequest r) {
    return new Batch(
        HostRequests.hostId("host_id", r.getHostId()),
        Fields.uint64("pages", r.getPages(), 1, Limits.UINT_MAX));
  }

  /** Validates {@code r}. */
  public static Filter filter(WatchEventsRequest r) {
    Set<EventKind> kinds = EnumSet.noneOf(EventKind.class);
    for (int i = 0; i < r.getKindsCount(); i++) {
      EventKind k = r.getKinds(i);
      if (k == EventKind.EVENT_KIND_UNSPECIFIED || k == EventKind.UNRECOGNIZED) {
        throw GatewayException.badField(
            "kinds[" + i + "]",
            Fields.enumValue(EventKind::forNumber, r.getKindsValue(i))
                + " is not allowed; use EVENT_KIND_FAULT .. EVENT_KIND_COW_BREAK");
      }
      kinds.add(k);
    }
    return new Filter(
        kinds,
        r.hasHostId() ? HostRequests.hostId("host_id", r.getHostId()) : null,
        r.hasVmId() ? VmRequests.vmId("vm_id", r.getVmId()) : null);
  }
}
