/**
 * What a copy needs to continue after a crash: every byte below `offset` is synced on the
 * destination and covered by `state` (the engine's own JSON, e.g. per-segment digests), so the
 * final checksums still cover the whole volume. Stored in migrations.checkpoint.
 */
export interface CopyCheckpoint {
  offset: number;
  state: unknown;
}
