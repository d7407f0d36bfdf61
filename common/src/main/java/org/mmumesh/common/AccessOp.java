package org.mmumesh.common;

/**
 * One guest access: a load, a store of {@code value}, or an instruction fetch, at effective address
 * {@code ea}. One type from the API edge to the vCPU: the {@code Simulation} port takes it, the
 * vCPU actor's batches carry it, so a batch crosses the port without a copy per access.
 */
public record AccessOp(Access kind, long ea, long value) implements CborSerializable {}
