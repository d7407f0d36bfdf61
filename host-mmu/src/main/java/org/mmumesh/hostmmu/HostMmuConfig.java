package org.mmumesh.hostmmu;

import java.util.Objects;
import org.mmumesh.common.Checks;

/**
 * The shape of one VM's host MMU (spec 5.2-5.4).
 *
 * @param kind the host CPU family
 * @param vcpus the number of vCPUs, 1 to {@link #MAX_VCPUS}
 * @param ptegCount host HTAB PTEGs, a power of two (see {@link HostHtab})
 * @param q5 the 32-bit host insertion quirk Q5 (spec 1.3); only with {@link HostKind#BOOK3S_32}
 * @param firstContextId the first MMU context of this VM: 64-bit host, vCPU {@code n} owns context
 *     {@code firstContextId + n}; 32-bit host, vCPU {@code n} owns the {@code poolContexts}
 *     contexts from {@code firstContextId + n * poolContexts}. VMs sharing a host should use
 *     disjoint contexts.
 * @param esidBits 64-bit host: proto-VSIDs per vCPU is {@code 2^esidBits - 1} (kernel: 18)
 * @param poolContexts 32-bit host: the VSID pool is {@code poolContexts x 16} (kernel: 128)
 */
public record HostMmuConfig(
    HostKind kind,
    int vcpus,
    int ptegCount,
    boolean q5,
    int firstContextId,
    int esidBits,
    int poolContexts) {

  /** vCPUs per VM: the owner token keeps the vCPU in 15 bits. */
  public static final int MAX_VCPUS = 4096;

  /** Validates every field; messages name the field and the allowed range. */
  public HostMmuConfig {
    Objects.requireNonNull(kind, "kind");
    Checks.inRange("vcpus", vcpus, 1, MAX_VCPUS);
    Checks.inRange("esidBits", esidBits, 1, ScrambledContextVsids.ESID_BITS);
    Checks.inRange("poolContexts", poolContexts, 1, VsidPool32.SID_CONTEXTS);
    if (kind.is64()) {
      Checks.inRange(
          "firstContextId", firstContextId, 1, (1L << ScrambledContextVsids.CONTEXT_BITS) - vcpus);
    } else {
      Checks.inRange(
          "firstContextId",
          firstContextId,
          1,
          (long) VsidPool32.MAX_CONTEXT + 1 - (long) vcpus * poolContexts);
    }
    if (q5 && kind.is64()) {
      throw new IllegalArgumentException(
          "q5: Q5 is a 32-bit host quirk; allowed only with kind BOOK3S_32");
    }
    int min = kind.is64() ? HostHtab.MIN_PTEGS_64 : HostHtab.MIN_PTEGS_32;
    int max = kind.is64() ? HostHtab.MAX_PTEGS_64 : HostHtab.MAX_PTEGS_32;
    Checks.inRange("ptegCount", ptegCount, min, max);
    if (Integer.bitCount(ptegCount) != 1) {
      throw new IllegalArgumentException(
          "ptegCount: "
              + ptegCount
              + " is not a power of two; allowed 2^k in "
              + min
              + " to "
              + max);
    }
  }

  /** A 64-bit host with the kernel's defaults and a 2^14-PTEG HTAB. */
  public static HostMmuConfig host64(int vcpus) {
    return new HostMmuConfig(
        HostKind.BOOK3S_64,
        vcpus,
        HostHtab.DEFAULT_PTEG_COUNT,
        false,
        1,
        ScrambledContextVsids.ESID_BITS,
        VsidPool32.SID_CONTEXTS);
  }

  /** A 32-bit host with the kernel's defaults, a 2^14-PTEG HTAB and Q5 as given. */
  public static HostMmuConfig host32(int vcpus, boolean q5) {
    return new HostMmuConfig(
        HostKind.BOOK3S_32,
        vcpus,
        HostHtab.DEFAULT_PTEG_COUNT,
        q5,
        1,
        ScrambledContextVsids.ESID_BITS,
        VsidPool32.SID_CONTEXTS);
  }

  /** A copy with another HTAB size. */
  public HostMmuConfig withPtegCount(int n) {
    return new HostMmuConfig(kind, vcpus, n, q5, firstContextId, esidBits, poolContexts);
  }

  /** A copy with another 64-bit proto-VSID range size. */
  public HostMmuConfig withEsidBits(int bits) {
    return new HostMmuConfig(kind, vcpus, ptegCount, q5, firstContextId, bits, poolContexts);
  }

  /** A copy with another 32-bit VSID pool size. */
  public HostMmuConfig withPoolContexts(int n) {
    return new HostMmuConfig(kind, vcpus, ptegCount, q5, firstContextId, esidBits, n);
  }

  /** A copy with another first context id. */
  public HostMmuConfig withFirstContextId(int id) {
    return new HostMmuConfig(kind, vcpus, ptegCount, q5, id, esidBits, poolContexts);
  }
}
