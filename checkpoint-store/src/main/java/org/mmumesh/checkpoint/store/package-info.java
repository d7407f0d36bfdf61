/**
 * Where checkpoints live (issue 13, item 2): {@link org.mmumesh.checkpoint.store.CheckpointStore}
 * and its two implementations over one JDBC schema, {@link
 * org.mmumesh.checkpoint.store.H2CheckpointStore} (embedded, a folder) and {@link
 * org.mmumesh.checkpoint.store.PostgresCheckpointStore} (a cluster's shared server). Parts are
 * opaque bytes cut into CRC32C-checked chunks ({@code ChunkFrame}); the manifest ({@code
 * CheckpointManifest}, with a SHA-256 per part) is written last in one transaction, so a checkpoint
 * is visible only when complete. docs/design.md section 8 says why this and not Pekko Persistence
 * snapshots.
 */
package org.mmumesh.checkpoint.store;
