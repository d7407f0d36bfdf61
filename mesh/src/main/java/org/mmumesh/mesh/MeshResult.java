package org.mmumesh.mesh;

import java.util.List;
import java.util.Map;

/**
 * What a {@link MeshEngine} run produced.
 *
 * @param counters the vCPUs' counters summed over every vCPU ({@code VcpuCounters.toMap()} names)
 * @param completed accesses completed, over every vCPU
 * @param failed accesses failed (the count is exact)
 * @param failures failure descriptions (the first few of each batch)
 * @param frames per VM, the content fingerprint of every gfn {@code 0 .. memoryPages - 1} (the zero
 *     page's content where nothing is mapped)
 * @param htabAddrs per VM, the guest-real addresses of the guest HTAB's non-zero words
 * @param htabWords per VM, those words
 */
public record MeshResult(
    Map<String, Long> counters,
    long completed,
    long failed,
    List<String> failures,
    List<long[]> frames,
    List<long[]> htabAddrs,
    List<long[]> htabWords) {}
