-- The checkpoint store's schema: one file for H2 2.x and PostgreSQL 12+ (plain SQL both accept).
-- Statements are separated by a semicolon at the end of a line. See CheckpointStore's Javadoc.

-- A checkpoint being written: its id (the chunks' key) and its name, unique so that two writers
-- cannot write one name at once. The row goes when the manifest is committed or the checkpoint is
-- abandoned; a row older than the store's grace period is an abandoned writer's (garbage).
CREATE TABLE IF NOT EXISTS mmumesh_checkpoint_pending (
  checkpoint_id VARCHAR(36) NOT NULL PRIMARY KEY,
  checkpoint_name VARCHAR(128) NOT NULL UNIQUE,
  started_unix_millis BIGINT NOT NULL
);

-- Every chunk of every part: a serialized mmumesh.checkpoint.v1.ChunkFrame (CRC32C, compression,
-- data). A chunk whose checkpoint_id is neither pending nor in a manifest is garbage.
CREATE TABLE IF NOT EXISTS mmumesh_checkpoint_chunk (
  checkpoint_id VARCHAR(36) NOT NULL,
  part_index INTEGER NOT NULL,
  chunk_index INTEGER NOT NULL,
  frame BYTEA NOT NULL,
  PRIMARY KEY (checkpoint_id, part_index, chunk_index)
);

-- The complete checkpoints: one row each, inserted last in one transaction. manifest is a
-- serialized mmumesh.checkpoint.v1.CheckpointManifest; the other columns repeat what list() shows.
CREATE TABLE IF NOT EXISTS mmumesh_checkpoint_manifest (
  checkpoint_name VARCHAR(128) NOT NULL PRIMARY KEY,
  checkpoint_id VARCHAR(36) NOT NULL UNIQUE,
  format_version INTEGER NOT NULL,
  created_unix_millis BIGINT NOT NULL,
  part_count INTEGER NOT NULL,
  total_bytes BIGINT NOT NULL,
  manifest BYTEA NOT NULL
);
