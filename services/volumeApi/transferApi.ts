/**
 * Volume transfers (cinder/transfer/api.py, os-volume-transfer and 3.55's volume-transfers): the
 * owner offers an `available` volume (it waits in `awaiting-transfer`), anyone holding the auth key
 * accepts it into their project (the volume, and its snapshots unless `no_snapshots`, change
 * project and user; quotas follow, since usage is counted from the rows), or the owner withdraws
 * the offer. Cinder's policies here are all owner-or-admin or open, so none is checked explicitly.
 * Expiry (`expires_at`) is never set, as in Cinder.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";

import type { Knex } from "knex";

import { InvalidSnapshot, InvalidVolume, NotFound } from "../../common/errors";
import { SnapshotStatus, VolumeStatus } from "../../common/states";
import { listSnapshotsOfVolumes } from "../../db/snapshots";
import {
  endTransfer,
  getTransfer,
  insertTransfer,
  listTransfers,
  type TransferRow,
} from "../../db/transfers";
import { getVolume, updateVolumeIf } from "../../db/volumes";
import { getVolumeType, type VolumeType } from "../../db/volumeTypes";
import { BadRequest } from "./badRequest";
import type { Caller } from "./caller";
import { boolParam, findVolume, type VolumeApiOptions } from "./lookup";
import { QuotaEngine, snapshotDeltas, volumeDeltas } from "./quotas";

/** Cinder's volume_transfer_salt_length and volume_transfer_key_length. */
const SALT_LENGTH = 8;
const KEY_LENGTH = 16;

/** A new transfer with the auth key, which only its creator ever sees. */
export interface CreatedTransfer extends TransferRow {
  auth_key: string;
}

export interface CreateTransferRequest {
  volumeId: string;
  name: string | null;
  noSnapshots: boolean;
}

/** Cinder's filter names: `name` is the display_name column; others must be columns. */
const FILTER_COLUMNS: Readonly<Record<string, string>> = {
  name: "display_name",
  display_name: "display_name",
  id: "id",
  volume_id: "volume_id",
  source_project_id: "source_project_id",
  destination_project_id: "destination_project_id",
};

function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString("hex")
    .slice(0, length);
}

function cryptHash(salt: string, authKey: string): string {
  return createHmac("sha1", salt).update(authKey).digest("hex");
}

function transferNotFound(id: string): NotFound {
  return new NotFound(`Transfer ${id} could not be found.`);
}

export class TransferApi {
  constructor(private readonly o: VolumeApiOptions) {}

  /** Admins see every transfer; others those of their project's volumes. */
  async get(caller: Caller, id: string): Promise<TransferRow> {
    const t = await getTransfer(this.o.db, id, caller.isAdmin ? undefined : caller.projectId);
    if (!t) {
      throw transferNotFound(id);
    }
    return t;
  }

  /** The caller's project's transfers (every project's for an admin with all_tenants). */
  async list(caller: Caller, query: Record<string, string>): Promise<TransferRow[]> {
    const allTenants = caller.isAdmin && boolParam("all_tenants", query["all_tenants"]);
    const columns: Record<string, string> = {};
    for (const [k, v] of Object.entries(query)) {
      if (k === "all_tenants") {
        continue;
      }
      const column = FILTER_COLUMNS[k];
      if (column === undefined) {
        // Cinder's is_valid_model_filters: a filter on no column matches nothing.
        return [];
      }
      columns[column] = v;
    }
    return listTransfers(this.o.db, { projectId: allTenants ? undefined : caller.projectId, columns });
  }

  /** The volume `available` → `awaiting-transfer` and the transfer row, in one transaction. */
  async create(caller: Caller, r: CreateTransferRequest): Promise<CreatedTransfer> {
    const volume = await findVolume(this.o.db, caller, r.volumeId);
    if (volume.status !== VolumeStatus.AVAILABLE) {
      throw new BadRequest("Invalid volume: status must be available");
    }
    if (!r.noSnapshots) {
      const notReady = (await listSnapshotsOfVolumes(this.o.db, [volume.id])).find(
        (s) => s.status !== SnapshotStatus.AVAILABLE,
      );
      if (notReady) {
        throw new InvalidSnapshot(`snapshot: ${notReady.id} status must be available`);
      }
    }
    const id = randomUUID();
    const salt = randomHex(SALT_LENGTH);
    const authKey = randomHex(KEY_LENGTH);
    const row = await this.o.db.transaction(async (trx) => {
      const moved = await updateVolumeIf(
        trx,
        volume.id,
        { status: VolumeStatus.AWAITING_TRANSFER },
        { status: VolumeStatus.AVAILABLE },
      );
      if (!moved) {
        throw new BadRequest(
          `Invalid volume: Transfer ${id}: Volume id ${volume.id} expected in available state.`,
        );
      }
      return insertTransfer(trx, {
        id,
        volume_id: volume.id,
        display_name: r.name,
        salt,
        crypt_hash: cryptHash(salt, authKey),
        no_snapshots: r.noSnapshots,
        source_project_id: volume.project_id,
      }).catch((err: unknown) => {
        // A volume reset to available while its transfer is still open: one live transfer per
        // volume (a partial unique index); the whole transaction, status change included, rolls back.
        if ((err as { code?: string }).code === "23505") {
          throw new BadRequest(`Invalid volume: Volume ${volume.id} already has a transfer in progress.`);
        }
        throw err;
      });
    });
    return { ...row, auth_key: authKey };
  }

  /**
   * Withdraws the offer: the volume back to `available` if it still awaits the transfer (Cinder
   * only logs a volume in another state, and deletes the transfer anyway).
   */
  async delete(caller: Caller, id: string): Promise<void> {
    const t = await this.get(caller, id);
    await findVolume(this.o.db, caller, t.volume_id);
    await this.o.db.transaction(async (trx) => {
      const back = await updateVolumeIf(
        trx,
        t.volume_id,
        { status: VolumeStatus.AVAILABLE },
        { status: VolumeStatus.AWAITING_TRANSFER },
      );
      if (!back) {
        this.o.logger.error({ transfer_id: id }, "transfer delete: volume not in awaiting-transfer");
      }
      if (!(await endTransfer(trx, id))) {
        throw transferNotFound(id);
      }
    });
  }

  /**
   * Any project that holds the key takes the volume: its per-volume size limit and quotas are
   * checked under the project's quota lock, then the volume (and snapshots) change project in
   * the same transaction, which also ends the transfer.
   */
  async accept(caller: Caller, id: string, authKey: string): Promise<TransferRow> {
    const t = await getTransfer(this.o.db, id);
    if (!t) {
      throw transferNotFound(id);
    }
    const given = Buffer.from(cryptHash(t.salt, authKey));
    const want = Buffer.from(t.crypt_hash);
    if (given.length !== want.length || !timingSafeEqual(given, want)) {
      throw new BadRequest(`Invalid auth key: Attempt to transfer ${id} with invalid auth key.`);
    }
    const volume = await getVolume(this.o.db, t.volume_id);
    if (!volume) {
      throw transferNotFound(id);
    }
    const type = volume.volume_type_id ? await getVolumeType(this.o.db, volume.volume_type_id) : undefined;
    const quotas = new QuotaEngine(this.o);
    await this.o.db.transaction(async (trx) => {
      await quotas.checkVolumeSize(trx, caller.projectId, volume.size);
      await quotas.reserve(trx, caller.projectId, "volumes", volumeDeltas(type, volume.size), volume.size);
      const moved = await updateVolumeIf(
        trx,
        volume.id,
        { status: VolumeStatus.AVAILABLE, project_id: caller.projectId, user_id: caller.userId },
        { status: VolumeStatus.AWAITING_TRANSFER },
      );
      if (!moved) {
        throw new InvalidVolume(
          `Transfer ${id}: Volume id ${volume.id} expected in awaiting-transfer state.`,
        );
      }
      if (!t.no_snapshots) {
        await this.moveSnapshots(trx, t, caller, type);
      }
      if (!(await endTransfer(trx, id, caller.projectId))) {
        throw transferNotFound(id);
      }
    });
    return t;
  }

  /** The volume's snapshots follow it (quota first), each one `available` or the accept fails. */
  private async moveSnapshots(
    trx: Knex.Transaction,
    t: TransferRow,
    caller: Caller,
    type: VolumeType | undefined,
  ): Promise<void> {
    const snapshots = await listSnapshotsOfVolumes(trx, [t.volume_id]);
    if (snapshots.length === 0) {
      return;
    }
    const gigabytes = snapshots.reduce((sum, s) => sum + s.volume_size, 0);
    const deltas = snapshotDeltas(type, gigabytes).map(([r, d]): [string, number] => [
      r,
      r.startsWith("snapshots") ? snapshots.length : d,
    ]);
    await new QuotaEngine(this.o).reserve(trx, caller.projectId, "snapshots", deltas, gigabytes);
    for (const s of snapshots) {
      const n = await trx("snapshots")
        .where({ id: s.id, deleted: false, status: SnapshotStatus.AVAILABLE })
        .update({ project_id: caller.projectId, user_id: caller.userId, updated_at: trx.fn.now() });
      if (n === 0) {
        throw new InvalidSnapshot(
          `Transfer ${t.id}: Snapshot ${s.id} is not in the expected available state.`,
        );
      }
    }
  }
}
