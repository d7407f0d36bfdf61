package org.mmumesh.engine;

import org.mmumesh.vcpu.PageFaultHandler;
import org.mmumesh.vcpu.Tlb;
import org.mmumesh.workload.AccessBatch;
import org.mmumesh.workload.AccessSource;

/** One vCPU in the sequential engine: its workload cursor, TLB and fault handler. */
final class VcpuRuntime {
  final VmRuntime vm;
  final int index;
  final int mode;
  final AccessSource source;
  final AccessBatch batch;
  final Tlb tlb;
  final PageFaultHandler handler;
  int pos;
  boolean done;
  boolean pendingFlush;

  /** A running digest of every loaded word: replaying a run must reproduce it. */
  long loadDigest;

  VcpuRuntime(
      VmRuntime vm,
      int index,
      int mode,
      AccessSource source,
      int batchSize,
      int tlbEntries,
      PageFaultHandler handler) {
    this.vm = vm;
    this.index = index;
    this.mode = mode;
    this.source = source;
    this.batch = new AccessBatch(batchSize);
    this.tlb = new Tlb(tlbEntries);
    this.handler = handler;
  }
}
