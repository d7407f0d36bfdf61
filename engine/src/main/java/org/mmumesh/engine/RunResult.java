package org.mmumesh.engine;

import java.util.List;
import java.util.Map;
import org.mmumesh.common.MmuOptions;

/**
 * What one run produced: the options it ran with, counters summed over the VMs and per VM, host
 * counters, the KSM time series and the simulated duration.
 *
 * @param options the policy and quirks
 * @param workload the workload's canonical description
 * @param totals every VM's counters summed
 * @param perVm each VM's counters
 * @param host host-wide counters (page frames, KSM, host MMU) by name
 * @param samples the KSM time series, at least a first and a last sample
 * @param simNanos simulated duration
 * @param loadDigest a digest of every loaded word (equal for equal runs)
 * @param failures the first few failed accesses with their causes
 * @param invariantChecks how many invariant checks ran (0 unless enabled)
 */
public record RunResult(
    MmuOptions options,
    String workload,
    VmStats totals,
    List<VmStats> perVm,
    Map<String, Long> host,
    List<KsmSample> samples,
    long simNanos,
    long loadDigest,
    List<String> failures,
    long invariantChecks) {

  /** The last KSM sample. */
  public KsmSample last() {
    return samples.get(samples.size() - 1);
  }

  /** Mean of {@link KsmSample#framesSavedByKsm()} over the samples after the first. */
  public double meanFramesSavedByKsm() {
    return samples.stream().skip(1).mapToLong(KsmSample::framesSavedByKsm).average().orElse(0);
  }

  /** Mean of {@link KsmSample#pagesSharing()} over the samples after the first. */
  public double meanPagesSharing() {
    return samples.stream().skip(1).mapToLong(KsmSample::pagesSharing).average().orElse(0);
  }

  /** A host counter, 0 when absent. */
  public long host(String name) {
    return host.getOrDefault(name, 0L);
  }
}
