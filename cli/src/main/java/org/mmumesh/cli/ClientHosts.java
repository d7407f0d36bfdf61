package org.mmumesh.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.HostSummary;
import org.mmumesh.proto.v1.ListHostsRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code mmumesh client hosts}: the hosts and their VMs. */
@Command(name = "hosts", mixinStandardHelpOptions = true, description = "Lists hosts and VMs.")
final class ClientHosts implements Callable<Integer> {
  @ParentCommand ClientCommand client;
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    return client.with(
        spec.commandLine().getErr(),
        ch -> {
          for (HostSummary h :
              HostServiceGrpc.newBlockingStub(ch)
                  .listHosts(ListHostsRequest.getDefaultInstance())
                  .getHostsList()) {
            out.printf(
                "host %d  %s  %,d frames  vms %s%n",
                h.getHostId(),
                h.getHostMmu(),
                h.getMaxFrames(),
                h.getVmsList().stream().map(v -> String.valueOf(v.getVmId())).toList());
          }
          out.flush();
          return 0;
        });
  }
}
