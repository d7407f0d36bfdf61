package org.mmumesh.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.function.IntConsumer;
import org.mmumesh.gateway.Limits;
import org.mmumesh.proto.v1.HostServiceGrpc;
import org.mmumesh.proto.v1.HostSummary;
import org.mmumesh.proto.v1.ListHostsRequest;
import org.mmumesh.proto.v1.VmRef;

/**
 * How {@code client run} picks free host and VM ids when it is not given any, so that it can run
 * any number of times against one gateway: it starts after the largest id the gateway lists ({@code
 * ListHosts}, hosts and their VMs) and creates with the next id until the gateway does not answer
 * ALREADY_EXISTS. The gateway never reuses an id within a cluster's lifetime (a deleted host's or
 * VM's id stays taken although no longer listed), and another client may take an id between the
 * listing and the create: both are the ALREADY_EXISTS that moves on to the next id. The search
 * wraps around the id range once (host 0 .. {@value Limits#MAX_HOST_ID}, VM 0 .. {@value
 * Limits#MAX_VM_ID}).
 */
final class FreeIds {
  private FreeIds() {}

  /** The first candidates: one past the largest listed host and VM ids (1 on an empty gateway). */
  record Start(int host, int vm) {}

  /** Lists the gateway's hosts and VMs. */
  static Start start(HostServiceGrpc.HostServiceBlockingStub hosts) {
    int host = 0;
    int vm = 0;
    for (HostSummary h : hosts.listHosts(ListHostsRequest.getDefaultInstance()).getHostsList()) {
      host = Math.max(host, h.getHostId());
      for (VmRef v : h.getVmsList()) {
        vm = Math.max(vm, v.getVmId());
      }
    }
    return new Start(host + 1, vm + 1);
  }

  /**
   * Calls {@code create} with {@code first}, then the next ids (wrapping to 0 after {@code max})
   * while it fails ALREADY_EXISTS; the id it succeeded with. Any other failure is thrown as is.
   *
   * @throws StatusRuntimeException RESOURCE_EXHAUSTED when every id of the range is taken
   */
  static int create(String what, int first, int max, IntConsumer create) {
    int range = max + 1;
    for (int i = 0; i < range; i++) {
      int id = (int) (((long) first + i) % range);
      try {
        create.accept(id);
        return id;
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.ALREADY_EXISTS) {
          throw e;
        }
      }
    }
    throw Status.RESOURCE_EXHAUSTED
        .withDescription("every " + what + " id 0 .. " + max + " is taken on this gateway")
        .asRuntimeException();
  }

  /** A host id within the API's range. */
  static int maxHost() {
    return Limits.MAX_HOST_ID;
  }

  /** A VM id within the API's range. */
  static int maxVm() {
    return Limits.MAX_VM_ID;
  }
}
