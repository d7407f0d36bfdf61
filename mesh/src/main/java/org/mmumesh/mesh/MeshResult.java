package org.mmumesh.mesh;

import java.util.List;
import java.util.Map;
import org.mmumesh.common.Counter;
import org.mmumesh.common.Counts;
import org.mmumesh.engine.RunResult;
import org.mmumesh.hostmmu.ShadowDump;

/**
 * What a {@link MeshEngine} run produced: the engine's {@link RunResult} (what the CLI's tables and
 * reports read) and the state the differential tests compare.
 *
 * @param counters the vCPUs' counters summed over every vCPU
 * @param completed accesses completed, over every vCPU
 * @param failed accesses failed (the count is exact)
 * @param failures failure descriptions (the first 20, as the sequential engine keeps them)
 * @param frames per VM, the content fingerprint of every gfn {@code 0 .. memoryPages - 1} (the zero
 *     page's content where nothing is mapped)
 * @param htabAddrs per VM, the guest-real addresses of the guest HTAB's non-zero words
 * @param htabWords per VM, those words
 * @param perVm per VM, every {@link Counter}: its vCPUs' counters summed and the guest kernel's
 *     events ({@code GuestMmu.GetKernelEvents})
 * @param shadows per VM, the {@code HostMmu}'s {@code DumpShadow} at the end
 * @param ksm ksmd's counters at the end ({@code PageFrame.GetKsmCounters})
 * @param ksmViolations the KSM scanner's counter violations at the end (empty when consistent)
 * @param frameStats the {@code PageFrame}'s counters at the end ({@code PageFrame.GetStats})
 * @param runResult the run as the sequential engine reports one (see {@link MeshEngine} for what
 *     differs: {@code loadDigest} is 0, {@code invariantChecks} counts the mesh's checks)
 */
public record MeshResult(
    Counts counters,
    long completed,
    long failed,
    List<String> failures,
    List<long[]> frames,
    List<long[]> htabAddrs,
    List<long[]> htabWords,
    List<Map<Counter, Long>> perVm,
    List<ShadowDump> shadows,
    Map<String, Long> ksm,
    List<String> ksmViolations,
    Map<String, Long> frameStats,
    RunResult runResult) {}
