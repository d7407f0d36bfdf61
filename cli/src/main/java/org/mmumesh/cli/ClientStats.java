package org.mmumesh.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.mmumesh.proto.v1.Counter;
import org.mmumesh.proto.v1.GetVmStatsRequest;
import org.mmumesh.proto.v1.GetVmStatsResponse;
import org.mmumesh.proto.v1.VmRef;
import org.mmumesh.proto.v1.VmServiceGrpc;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code mmumesh client stats --vm N}: a VM's counters. */
@Command(name = "stats", mixinStandardHelpOptions = true, description = "Prints a VM's counters.")
final class ClientStats implements Callable<Integer> {
  @ParentCommand ClientCommand client;
  @Spec CommandSpec spec;

  @Option(names = "--vm", required = true, description = "The VM id.")
  int vm;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    return client.with(
        spec.commandLine().getErr(),
        ch -> {
          GetVmStatsResponse r =
              VmServiceGrpc.newBlockingStub(ch)
                  .getVmStats(
                      GetVmStatsRequest.newBuilder().setVm(VmRef.newBuilder().setVmId(vm)).build());
          out.printf(
              "vm %d  policy %s  simulated %.3f ms%n",
              r.getVm().getVmId(), r.getPolicy(), r.getSimulatedNanos() / 1e6);
          for (Counter c : r.getCountersList()) {
            if (c.getValue() != 0) {
              out.printf("  %-28s %,d%n", c.getName(), c.getValue());
            }
          }
          out.flush();
          return 0;
        });
  }
}
