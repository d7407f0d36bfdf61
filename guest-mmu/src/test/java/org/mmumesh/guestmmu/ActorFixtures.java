package org.mmumesh.guestmmu;

import java.util.ArrayList;
import java.util.List;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.Policy;

/** Setups of the GuestMmu actor tests. */
public final class ActorFixtures {
  private ActorFixtures() {}

  public static final long BASE = 0x10000000L;
  static final long MEM = 64L << 20;

  /** A 32-bit VM with one 64 KiB HTAB group (1024 PTEGs), 2 vCPUs, a 64 Ki-page window. */
  public static GuestSetup setup32() {
    return new GuestSetup(
        GuestMmuKind.BOOK3S_32,
        0x00100000L,
        MEM,
        MmuOptions.defaults(Policy.FIXED),
        2,
        BASE,
        1 << 16,
        2,
        ProtectionPolicy.UPGRADE);
  }

  /** A 64-bit VM (SDR1 0x01000000), 2 vCPUs, a 64-page window. */
  public static GuestSetup setup64() {
    return new GuestSetup(
        GuestMmuKind.BOOK3S_64,
        0x01000000L,
        MEM,
        MmuOptions.defaults(Policy.STRICT),
        2,
        BASE,
        64,
        2,
        ProtectionPolicy.UPGRADE);
  }

  /**
   * The first {@code n} window pages (as effective addresses) of vCPU 0 whose primary PTEG is the
   * one of {@code BASE}: 16 fill the primary and secondary PTEG, the 17th evicts.
   */
  public static List<Long> collidingEas(GuestSetup setup, int n) {
    GuestMmuPort ref = setup.newPort();
    long pteg = ref.primaryPteg(0, BASE);
    List<Long> eas = new ArrayList<>();
    for (long p = 0; eas.size() < n && p < setup.windowPages(); p++) {
      long ea = BASE + (p << 12);
      if (ref.primaryPteg(0, ea) == pteg) {
        eas.add(ea);
      }
    }
    return eas;
  }
}
