/**
 * Values every module shares, and nothing mutable (architecture section 2; design: docs/design.md).
 *
 * <p>What a run models: {@link org.mmumesh.common.Policy} and {@link org.mmumesh.common.Quirk}
 * (spec 1.3, 10) combined in {@link org.mmumesh.common.MmuOptions}. The architecture's words: an
 * {@link org.mmumesh.common.Access} kind, a guest translation {@link org.mmumesh.common.GuestPte}
 * ({@code struct kvmppc_pte}, spec 4), {@link org.mmumesh.common.PageSize}, the VSID tags of spec
 * 5.2 ({@link org.mmumesh.common.VsidTags}), the exception vectors and DSISR/SRR1 bits of spec 6.1
 * ({@link org.mmumesh.common.FaultBits}) and the host flush a guest {@code tlbie} asks for (spec
 * 5.6, {@link org.mmumesh.common.HostFlush}). Page contents are 64-bit {@link
 * org.mmumesh.common.Fingerprint}s (architecture section 1). The one counter vocabulary, from the
 * cores to the results, the gRPC responses, Prometheus and the report: {@link
 * org.mmumesh.common.Counter}, counted in a {@link org.mmumesh.common.Counts}. Plus the bad-input
 * checks every module uses ({@link org.mmumesh.common.Checks}), the event shape and per-node bus of
 * the event feed ({@link org.mmumesh.common.MeshEvent}, {@link org.mmumesh.common.MeshEventBus})
 * and the marker for messages that cross nodes ({@link org.mmumesh.common.CborSerializable}). No
 * Pekko.
 */
package org.mmumesh.common;
