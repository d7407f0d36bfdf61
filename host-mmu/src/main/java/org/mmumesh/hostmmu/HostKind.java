package org.mmumesh.hostmmu;

/**
 * The host CPU family running PR KVM. It decides the host HPTE format, the insertion policy and the
 * host VSID allocator (spec 5.2-5.4), and whether the shadow cache keeps its 64 KiB index (spec
 * 5.6). A 64-bit guest cannot run on a 32-bit host (spec 10); that pairing is the caller's to
 * refuse.
 */
public enum HostKind {
  /** A 64-bit Book3S host: 16-byte HPTEs with rflags 0x192/0x193 and N (spec 5.3). */
  BOOK3S_64,
  /** A 32-bit Book3S host: 8-byte PTEs with PP 2 / PP 1, no N bit (spec 5.4). */
  BOOK3S_32;

  /** True for {@link #BOOK3S_64}. */
  public boolean is64() {
    return this == BOOK3S_64;
  }
}
