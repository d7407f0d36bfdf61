package org.mmumesh.engine;

import org.mmumesh.vcpu.VcpuCore;
import org.mmumesh.workload.AccessBatch;
import org.mmumesh.workload.ResumableSource;

/** One vCPU in the sequential engine: its workload cursor and its access-path core. */
final class VcpuRuntime {
  final VmRuntime vm;
  final int index;
  final ResumableSource source;
  final AccessBatch batch;
  final VcpuCore core;
  int pos;
  boolean done;
  boolean pendingFlush;

  /** A running digest of every loaded word: replaying a run must reproduce it. */
  long loadDigest;

  VcpuRuntime(VmRuntime vm, int index, ResumableSource source, int batchSize, VcpuCore core) {
    this.vm = vm;
    this.index = index;
    this.source = source;
    this.batch = new AccessBatch(batchSize);
    this.core = core;
  }
}
