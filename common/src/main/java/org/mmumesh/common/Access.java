package org.mmumesh.common;

/**
 * The kind of a guest memory access. Loads and stores are data accesses (DSI on a fault, vector
 * 0x300); instruction fetches go through the instruction-side translation (ISI, vector 0x400).
 */
public enum Access {
  LOAD,
  STORE,
  IFETCH;

  /** True for a store: the kernel's {@code iswrite}. */
  public boolean isWrite() {
    return this == STORE;
  }

  /** True for a load or store: the kernel's {@code data} argument to xlate. */
  public boolean isData() {
    return this != IFETCH;
  }
}
