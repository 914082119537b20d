/** Volume type encryption as Cinder shows it (its `encryption` row, every column). */
import type { EncryptionRow } from "../../db/volumeTypeEncryption";
import { cinderTime } from "./common";

/** GET /types/{id}/encryption: the row's fields, `{}` when the type has none. */
export function encryptionView(row: EncryptionRow | undefined): Record<string, unknown> {
  if (!row) {
    return {};
  }
  return {
    volume_type_id: row.volume_type_id,
    encryption_id: row.encryption_id,
    provider: row.provider,
    control_location: row.control_location,
    cipher: row.cipher,
    key_size: row.key_size === null ? null : Number(row.key_size),
    deleted: row.deleted,
    created_at: cinderTime(row.created_at),
    updated_at: cinderTime(row.updated_at),
    deleted_at: cinderTime(row.deleted_at),
  };
}
