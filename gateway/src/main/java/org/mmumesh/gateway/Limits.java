package org.mmumesh.gateway;

/**
 * The gateway's limits: the allowed ranges the API documents (proto comments), in one place so
 * validation messages and docs agree.
 */
public final class Limits {
  private Limits() {}

  /** Host ids 0 .. this. */
  public static final int MAX_HOST_ID = 1023;

  /** VM ids 0 .. this (entity ids {@code vm-<id>}). */
  public static final int MAX_VM_ID = 65535;

  /** Host frames per host, 1 .. this (64 GiB of 4 KiB pages). */
  public static final long MAX_FRAMES = 1L << 24;

  /** vCPUs per VM, 1 .. this. */
  public static final int MAX_VCPUS = 64;

  /** Smallest guest memory, bytes. */
  public static final long MIN_MEMORY_BYTES = 64 * 1024;

  /** Largest 32-bit guest memory, bytes (4 GiB). */
  public static final long MAX_MEMORY_BYTES_32 = 1L << 32;

  /** Largest 64-bit guest memory, bytes (64 GiB). */
  public static final long MAX_MEMORY_BYTES_64 = 1L << 36;

  /** TLB entries per vCPU, a power of two 1 .. this (0 = the default). */
  public static final int MAX_TLB_ENTRIES = 65536;

  /** Default TLB entries per vCPU. */
  public static final int DEFAULT_TLB_ENTRIES = 1024;

  /** Memslot ids 0 .. this. */
  public static final int MAX_SLOT_ID = 511;

  /** Pages per LoadMemory request (fingerprints), and 4096 x this bytes of image. */
  public static final int MAX_LOAD_PAGES = 4096;

  /** Pages per ReadMemory request. */
  public static final int MAX_READ_PAGES = 65536;

  /** Accesses per workload batch. */
  public static final int MAX_BATCH_ACCESSES = 65536;

  /** KSM full passes per RunKsmPasses. */
  public static final int MAX_KSM_PASSES = 100;

  /** The kernel's UINT_MAX bound of pages_to_scan and sleep_millisecs. */
  public static final long UINT_MAX = 0xFFFF_FFFFL;

  /**
   * The smallest sleep_millisecs: 1. The kernel accepts 0 ({@code sleep_millisecs_store} refuses
   * only values above UINT_MAX), but KSM here sleeps in simulated time, where a batch takes none: 0
   * would be unboundedly many batches at one instant (spec 7.1, 7.3).
   */
  public static final long MIN_SLEEP_MILLISECS = 1;

  /**
   * Changes per SetVcpuState request (segment registers, SLB entries, BATs, MSR and SDR1 together),
   * the simulation's own bound ({@link org.mmumesh.mesh.Simulation#MAX_STATE_CHANGES}).
   */
  public static final int MAX_STATE_CHANGES = org.mmumesh.mesh.Simulation.MAX_STATE_CHANGES;

  /** Segment registers 0 .. this (32-bit). */
  public static final int MAX_SR_INDEX = 15;

  /** SLB entries 0 .. this (64-bit). */
  public static final int MAX_SLB_INDEX = 63;

  /** BAT pairs 0 .. this (32-bit). */
  public static final int MAX_BAT_INDEX = 3;
}
