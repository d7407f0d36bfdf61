package org.mmumesh.guestmmu;

/**
 * Receives a human-readable account of a translation walk (segment, hash, PTEG addresses, the
 * matched slot, protection, R/C before and after). Passing {@code null} to xlate disables tracing;
 * the models build no strings then.
 */
@FunctionalInterface
public interface XlateTrace {
  /** One step of the walk. */
  void step(String line);
}
