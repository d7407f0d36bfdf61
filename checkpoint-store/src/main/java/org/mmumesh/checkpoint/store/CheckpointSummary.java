package org.mmumesh.checkpoint.store;

/**
 * One complete checkpoint as {@link CheckpointStore#list()} shows it (from the manifest row's
 * columns; {@link CheckpointStore#open} reads the manifest itself).
 *
 * @param name the checkpoint's name
 * @param formatVersion the format version it was written with
 * @param createdUnixMillis when it was committed (wall clock, ms since the epoch)
 * @param partCount how many parts it holds
 * @param totalBytes the parts' total length, uncompressed
 */
public record CheckpointSummary(
    String name, int formatVersion, long createdUnixMillis, int partCount, long totalBytes) {}
