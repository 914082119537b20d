/**
 * Volume transfer rows (cinder/db/api.py `transfer_*`). The volume's status moves with the
 * transfer in one transaction: `available` → `awaiting-transfer` on create, back on delete, and to
 * `available` in the new project on accept (each a compare-and-swap on the volume row).
 */
import type { Knex } from "knex";

import { isUuid } from "./volumes";

export interface TransferRow {
  id: string;
  volume_id: string;
  display_name: string | null;
  salt: string;
  crypt_hash: string;
  expires_at: Date | null;
  no_snapshots: boolean;
  source_project_id: string;
  destination_project_id: string | null;
  accepted: boolean;
  created_at: Date;
  updated_at: Date | null;
  deleted: boolean;
  deleted_at: Date | null;
}

type Conn = Knex | Knex.Transaction;

/** A live transfer; with `projectId`, only one whose volume is in that project (Cinder's `_transfer_get`). */
export async function getTransfer(
  db: Conn,
  id: string,
  projectId?: string,
): Promise<TransferRow | undefined> {
  if (!isUuid(id)) {
    return undefined;
  }
  const qb = db("transfers").where({ "transfers.id": id, "transfers.deleted": false }).select("transfers.*");
  if (projectId !== undefined) {
    qb.join("volumes", "volumes.id", "transfers.volume_id").where("volumes.project_id", projectId);
  }
  return (await qb.first()) as TransferRow | undefined;
}

export interface TransferFilter {
  /** Only transfers of volumes in this project. */
  projectId?: string;
  /** Column = value (display_name, volume_id …). */
  columns?: Record<string, string>;
}

const UUID_COLUMNS: ReadonlySet<string> = new Set(["id", "volume_id"]);

/** Live transfers, oldest first (Cinder's created_at, id ascending). */
export async function listTransfers(db: Conn, f: TransferFilter = {}): Promise<TransferRow[]> {
  const qb = db("transfers")
    .where("transfers.deleted", false)
    .select("transfers.*")
    .orderBy([
      { column: "transfers.created_at", order: "asc" },
      { column: "transfers.id", order: "asc" },
    ]);
  if (f.projectId !== undefined) {
    qb.join("volumes", "volumes.id", "transfers.volume_id").where("volumes.project_id", f.projectId);
  }
  for (const [k, v] of Object.entries(f.columns ?? {})) {
    // A uuid column compared with anything else matches nothing (Postgres would refuse the query).
    if (UUID_COLUMNS.has(k) && !isUuid(v)) {
      return [];
    }
    qb.where(`transfers.${k}`, v);
  }
  return (await qb) as TransferRow[];
}

export async function insertTransfer(
  db: Conn,
  t: Pick<
    TransferRow,
    "id" | "volume_id" | "display_name" | "salt" | "crypt_hash" | "no_snapshots" | "source_project_id"
  >,
): Promise<TransferRow> {
  return ((await db("transfers").insert(t).returning("*")) as TransferRow[])[0]!;
}

/** Soft-deletes a live transfer, recording where it went when accepted; whether it was live. */
export async function endTransfer(db: Conn, id: string, acceptedBy?: string): Promise<boolean> {
  const n = await db("transfers")
    .where({ id, deleted: false })
    .update({
      deleted: true,
      deleted_at: db.fn.now(),
      ...(acceptedBy === undefined ? {} : { accepted: true, destination_project_id: acceptedBy }),
    });
  return n > 0;
}
