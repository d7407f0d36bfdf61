/**
 * Workloads: what the simulated guests do (architecture section 2, module {@code workload}; spec
 * 10, "workloads are streams of loads, stores and instruction fetches").
 *
 * <p>A {@link org.mmumesh.workload.WorkloadSpec} says how many VMs and vCPUs, how much memory,
 * which MMU ({@link org.mmumesh.workload.MmuKind}), what memory starts with ({@link
 * org.mmumesh.workload.GuestImage}, from {@link org.mmumesh.workload.ImageLoader} or synthetic),
 * and hands each vCPU an {@link org.mmumesh.workload.AccessSource} that fills {@link
 * org.mmumesh.workload.AccessBatch}es. Sources come from seeded generators ({@link
 * org.mmumesh.workload.Workloads}) or Valgrind Lackey traces ({@link
 * org.mmumesh.workload.LackeyTrace}, folded by {@link org.mmumesh.workload.AddressFolding}). {@link
 * org.mmumesh.workload.WorkloadParser} reads the CLI syntax.
 *
 * <p>Every effective address lies in the guest linear map starting at {@link
 * org.mmumesh.workload.MmuKind#LINEAR_MAP_BASE} (0x10000000): EA page {@code p} is gfn {@code p}.
 * Nothing here is mutable shared state, nothing logs, and nothing reads the clock: equal seeds give
 * equal streams.
 */
package org.mmumesh.workload;
