package org.mmumesh.gateway;

import org.mmumesh.proto.v1.CreateHostRequest;
import org.mmumesh.proto.v1.HostMmuKind;

/** Validated HostService requests: static ranges only (existence is the simulation's check). */
public final class HostRequests {
  private HostRequests() {}

  /** A host to create. */
  public record CreateHost(int hostId, boolean host32, long maxFrames) {}

  /** Validates {@code r}. */
  public static CreateHost createHost(CreateHostRequest r) {
    int host = hostId("host_id", r.getHostId());
    boolean host32 =
        switch (r.getHostMmu()) { // UNRECOGNIZED (an unknown number) is refused with the rest
          case HOST_MMU_KIND_64 -> false;
          case HOST_MMU_KIND_32 -> true;
          default ->
              throw GatewayException.badField(
                  "host_mmu",
                  Fields.enumValue(HostMmuKind::forNumber, r.getHostMmuValue())
                      + " is not allowed; use HOST_MMU_KIND_64 or HOST_MMU_KIND_32");
        };
    long frames = Fields.uint64("max_frames", r.getMaxFrames(), 1, Limits.MAX_FRAMES);
    return new CreateHost(host, host32, frames);
  }

  /** A host id field. */
  public static int hostId(String field, int value) {
    return Fields.uint32(field, value, 0, Limits.MAX_HOST_ID);
  }

  /** The proto kind of a host. */
  public static HostMmuKind kind(boolean host32) {
    return host32 ? HostMmuKind.HOST_MMU_KIND_32 : HostMmuKind.HOST_MMU_KIND_64;
  }
}
