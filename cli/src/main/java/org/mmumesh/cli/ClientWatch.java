package org.mmumesh.cli;

import io.grpc.Context;
import java.io.PrintWriter;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.mmumesh.proto.v1.EventKind;
import org.mmumesh.proto.v1.EventServiceGrpc;
import org.mmumesh.proto.v1.WatchEventsRequest;
import org.mmumesh.proto.v1.WatchEventsResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mmumesh client watch}: follows the gateway's event feed ({@code EventService.WatchEvents})
 * and prints one line per event, until {@code --limit} events were printed or the process is
 * interrupted (Ctrl-C). Events the gateway had to drop because this client read too slowly are
 * reported on the next line ({@code dropped N before}).
 */
@Command(
    name = "watch",
    mixinStandardHelpOptions = true,
    description =
        "Prints the simulation's events (faults, maps, invalidations, merges, COW breaks).")
final class ClientWatch implements Callable<Integer> {
  @ParentCommand ClientCommand client;
  @Spec CommandSpec spec;

  @Option(
      names = "--kinds",
      split = ",",
      paramLabel = "KIND",
      description = "Only these kinds: fault, map, invalidation, merge, cow (default: every kind).")
  Set<String> kinds = new LinkedHashSet<>();

  @Option(names = "--host", paramLabel = "N", description = "Only events of host N.")
  Integer host;

  @Option(names = "--vm", paramLabel = "N", description = "Only events of VM N.")
  Integer vm;

  @Option(
      names = "--limit",
      paramLabel = "N",
      description = "Stop after N events (default 0: until interrupted).",
      defaultValue = "0")
  long limit;

  @Override
  public Integer call() {
    WatchEventsRequest req = request();
    PrintWriter out = spec.commandLine().getOut();
    return client.with(
        spec.commandLine().getErr(),
        ch -> {
          Context.CancellableContext ctx = Context.current().withCancellation();
          try {
            return ctx.call(
                () -> {
                  Iterator<WatchEventsResponse> it =
                      EventServiceGrpc.newBlockingStub(ch).watchEvents(req);
                  long n = 0;
                  while ((limit == 0 || n < limit) && it.hasNext()) {
                    out.println(line(it.next()));
                    out.flush();
                    n++;
                  }
                  return 0;
                });
          } catch (RuntimeException e) {
            throw e;
          } catch (Exception e) {
            throw new IllegalStateException(e);
          } finally {
            ctx.cancel(null); // ends the stream on the server too
          }
        });
  }

  private WatchEventsRequest request() {
    WatchEventsRequest.Builder b = WatchEventsRequest.newBuilder();
    for (String k : kinds) {
      b.addKinds(kind(k));
    }
    if (host != null) {
      if (host < 0) {
        throw new ParameterException(spec.commandLine(), "--host: " + host + " is negative");
      }
      b.setHostId(host);
    }
    if (vm != null) {
      if (vm < 0) {
        throw new ParameterException(spec.commandLine(), "--vm: " + vm + " is negative");
      }
      b.setVmId(vm);
    }
    if (limit < 0) {
      throw new ParameterException(spec.commandLine(), "--limit: " + limit + " is negative");
    }
    return b.build();
  }

  private EventKind kind(String k) {
    return switch (k.trim().toLowerCase(Locale.ROOT)) {
      case "fault" -> EventKind.EVENT_KIND_FAULT;
      case "map" -> EventKind.EVENT_KIND_MAP;
      case "invalidation" -> EventKind.EVENT_KIND_INVALIDATION;
      case "merge" -> EventKind.EVENT_KIND_MERGE;
      case "cow", "cow_break" -> EventKind.EVENT_KIND_COW_BREAK;
      default ->
          throw new ParameterException(
              spec.commandLine(),
              "--kinds: '"
                  + k
                  + "' is not an event kind; allowed fault, map, invalidation,"
                  + " merge, cow");
    };
  }

  /** One event as a line: sequence, kind, where, what. */
  static String line(WatchEventsResponse e) {
    StringBuilder s = new StringBuilder();
    if (e.getDroppedBefore() > 0) {
      s.append("(dropped ").append(e.getDroppedBefore()).append(" before) ");
    }
    s.append('#').append(e.getSequence()).append(' ');
    s.append(e.getKind().name().substring("EVENT_KIND_".length()).toLowerCase(Locale.ROOT));
    s.append(e.hasHostId() ? "  host " + e.getHostId() : "  host ?");
    s.append("  vm ").append(e.getVmId());
    if (e.hasVcpuIndex()) {
      s.append("  vcpu ").append(e.getVcpuIndex());
    }
    if (e.hasEffectiveAddr()) {
      s.append(String.format("  ea 0x%x", e.getEffectiveAddr()));
    }
    if (e.hasGuestFrame()) {
      s.append(String.format("  gfn 0x%x", e.getGuestFrame()));
    }
    if (e.hasHostPfn()) {
      s.append("  pfn ").append(e.getHostPfn());
    }
    s.append("  ").append(e.getDetail());
    return s.toString();
  }
}
