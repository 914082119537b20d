/**
 * The attachments API (3.27+; cinder/api/v3/attachments.py, cinder/volume/api.py
 * `attachment_create/update/delete`, the manager's `attachment_update`): a host reserves the
 * volume, hands over its connector, is told how to connect (connection_info), and marks the
 * attachment complete; deleting it gives the volume back. The volume's owner (or an admin) may do
 * all of it; another project's volume or attachment does not exist for the caller.
 *
 * connection_info comes from the volume's service (the `get_copy_endpoint` RPC, which names where
 * the bytes are) in the form of os-brick's `local` connector, the documented stand-in for
 * drivers that export no target:
 *
 *   {"driver_volume_type": "local",
 *    "data": {"device_path": "<file or block device>", "volume_id": "<id>",
 *             "access_mode": "rw"|"ro", "storage_host": "<ssh host>"|null, "discard": false}}
 *
 * `storage_host` is null when the path is on the volume service's own machine (raw-file, local
 * LVM) and the storage host otherwise (LVM over SSH): a compute host can only use the path where
 * it is local. No export is created or removed, so deleting an attachment needs no driver call.
 */
import { Conflict, InvalidVolume, NotFound } from "../../common/errors";
import { AttachStatus, VolumeStatus } from "../../common/states";
import {
  type AttachmentRow,
  detachAttachment,
  findAttachments,
  getAttachment,
  insertAttachment,
  listAttachments,
  updateAttachmentIf,
} from "../../db/attachments";
import { lockVolume, updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { VolumeRpc } from "../rpc/stubs";
import { afterDetach, withoutAttachedMode } from "./attach";
import type { Caller } from "./caller";
import { boolParam, findVolume, type VolumeApiOptions } from "./lookup";

export type Connector = Record<string, unknown>;

export interface CreateAttachmentRequest {
  volumeId: string;
  instanceUuid: string | null;
  connector: Connector | null;
  /** 3.54+: rw or ro; `null` leaves it to the connector's `mode` (Cinder's compatibility rule). */
  mode: "rw" | "ro" | "null";
}

export interface ListAttachmentsRequest {
  allTenants?: string;
  volumeId?: string;
  status?: string;
  instanceId?: string;
}

function notFound(id: string): NotFound {
  return new NotFound(`Volume attachment could not be found with filter: attachment_id = ${id}.`);
}

/** Cinder's build_or_str. */
function orList(values: readonly string[]): string {
  return values.join(" or ");
}

export class AttachmentApi {
  constructor(private readonly o: VolumeApiOptions) {}

  /** Admins see every project's with all_tenants; everyone else their project's volumes' attachments. */
  list(caller: Caller, r: ListAttachmentsRequest): Promise<AttachmentRow[]> {
    const all = caller.isAdmin && r.allTenants !== undefined && boolParam("all_tenants", r.allTenants, true);
    return findAttachments(this.o.db, {
      projectId: all ? undefined : caller.projectId,
      volumeId: r.volumeId,
      status: r.status,
      instanceUuid: r.instanceId,
    });
  }

  async get(caller: Caller, id: string): Promise<AttachmentRow> {
    const a = await getAttachment(this.o.db, id);
    if (!a) {
      throw notFound(id);
    }
    await findVolume(this.o.db, caller, a.volume_id).catch(() => {
      throw notFound(id);
    });
    return a;
  }

  /** Reserve the volume (and connect it at once when a connector is given). */
  async create(caller: Caller, r: CreateAttachmentRequest): Promise<AttachmentRow> {
    const volume = await findVolume(this.o.db, caller, r.volumeId);
    if (volume.status.includes("error")) {
      throw new InvalidVolume(
        "Volume attachments can not be created if the volume is in an error state. The Volume " +
          `${volume.id} currently has a status of: ${volume.status} `,
      );
    }
    // readonly admin metadata still forces ro (Cinder logs it as deprecated).
    const mode = volume.metadata["readonly"] === "True" ? "ro" : r.mode;
    const attachment = await this.reserve(volume, r.instanceUuid, mode);
    if (r.connector && Object.keys(r.connector).length > 0) {
      return this.connect(volume, attachment.id, r.connector);
    }
    return (await getAttachment(this.o.db, attachment.id))!;
  }

  /** Hand over the connector of a reserved (or connected) attachment and get the connection. */
  async update(caller: Caller, id: string, connector: Connector): Promise<AttachmentRow> {
    const a = await this.get(caller, id);
    const volume = await findVolume(this.o.db, caller, a.volume_id);
    if (volume.status.includes("error")) {
      throw new Conflict(
        "Resource conflict: Volume attachments can not be updated if the volume is in an error " +
          `state. The Volume ${volume.id} currently has a status of: ${volume.status} `,
      );
    }
    const others = (await listAttachments(this.o.db, [volume.id])).filter((x) => x.connection_info);
    if (!volume.multiattach && others.length > 0 && others.some((x) => x.id !== id)) {
      throw new Conflict(`Resource conflict: duplicate connectors detected on volume ${volume.id}`);
    }
    return this.connect(volume, id, connector);
  }

  /** os-complete (3.44): the attachment is attached and the volume in-use. */
  async complete(caller: Caller, id: string): Promise<void> {
    const a = await this.get(caller, id);
    await this.o.db.transaction(async (trx) => {
      await updateAttachmentIf(trx, a.id, { attach_status: AttachStatus.ATTACHED }, {});
      await updateVolumeIf(
        trx,
        a.volume_id,
        { status: VolumeStatus.IN_USE, attach_status: AttachStatus.ATTACHED },
        {},
      );
    });
  }

  /** Delete: the volume's statuses follow from what remains; answers the remaining attachments. */
  async delete(caller: Caller, id: string): Promise<AttachmentRow[]> {
    const a = await this.get(caller, id);
    return this.o.db.transaction(async (trx) => {
      const v = await lockVolume(trx, a.volume_id);
      if (!v) {
        throw notFound(id);
      }
      await detachAttachment(trx, a.id);
      const remaining = (await listAttachments(trx, [v.id])).filter((x) => x.id !== a.id);
      await updateVolumeIf(
        trx,
        v.id,
        { ...afterDetach(v, remaining), metadata: withoutAttachedMode(v.metadata) },
        { status: v.status },
      );
      return remaining;
    });
  }

  /**
   * Cinder's _attachment_reserve: available (or in-use for multiattach, or downloading) →
   * reserved; an instance that already has an attachment of the volume may reserve again.
   */
  private async reserve(
    volume: VolumeRow,
    instanceUuid: string | null,
    mode: CreateAttachmentRequest["mode"],
  ): Promise<AttachmentRow> {
    const statuses = volume.multiattach
      ? [VolumeStatus.AVAILABLE, VolumeStatus.IN_USE, VolumeStatus.DOWNLOADING]
      : [VolumeStatus.AVAILABLE, VolumeStatus.DOWNLOADING];
    return this.o.db.transaction(async (trx) => {
      const reserved = await updateVolumeIf(
        trx,
        volume.id,
        { status: VolumeStatus.RESERVED },
        { multiattach: volume.multiattach, status: statuses },
      );
      if (!reserved) {
        const now = (await lockVolume(trx, volume.id)) ?? volume;
        const override =
          instanceUuid !== null &&
          [VolumeStatus.IN_USE, VolumeStatus.RESERVED].includes(now.status as "in-use" | "reserved") &&
          (await listAttachments(trx, [volume.id])).some((x) => x.instance_uuid === instanceUuid);
        if (!override) {
          throw new InvalidVolume(
            `Volume ${volume.id} status must be ${orList(statuses)} to reserve, but the current ` +
              `status is ${now.status}.`,
          );
        }
      }
      const row = await insertAttachment(trx, {
        volume_id: volume.id,
        instance_uuid: instanceUuid,
        attached_host: null,
        mountpoint: null,
        attach_mode: mode,
        attach_status: AttachStatus.RESERVED,
      });
      // Not connected yet: Cinder shows an empty connection_info.
      return (await updateAttachmentIf(trx, row.id, { connection_info: {} }, {}))!;
    });
  }

  /**
   * The manager's attachment_update: the mode (the attachment's, else the connector's, else rw),
   * the connection from the volume's service, then attachment and volume `attaching`.
   */
  private async connect(volume: VolumeRow, id: string, connector: Connector): Promise<AttachmentRow> {
    const a = (await getAttachment(this.o.db, id))!;
    const mode = a.attach_mode !== "null" ? a.attach_mode : String(connector["mode"] ?? "rw");
    if (!volume.host) {
      throw new InvalidVolume(`Volume ${volume.id} has not been scheduled to any host.`);
    }
    const endpoint = await new VolumeRpc(this.o.bus).getCopyEndpoint(volume.host, { volume_id: volume.id });
    const connectionInfo = {
      driver_volume_type: "local",
      data: {
        device_path: endpoint.path,
        volume_id: volume.id,
        access_mode: mode,
        storage_host: endpoint.runner.kind === "ssh" ? endpoint.runner.host : null,
        discard: false,
      },
    };
    await this.o.db.transaction(async (trx) => {
      await updateAttachmentIf(
        trx,
        id,
        {
          connector: { ...connector, mode },
          connection_info: connectionInfo,
          attach_mode: mode,
          attached_host: typeof connector["host"] === "string" ? connector["host"] : "",
          mountpoint: typeof connector["mountpoint"] === "string" ? connector["mountpoint"] : "na",
          attach_status: AttachStatus.ATTACHING,
          attach_time: trx.fn.now(),
        },
        {},
      );
      await updateVolumeIf(
        trx,
        volume.id,
        { status: VolumeStatus.ATTACHING, attach_status: AttachStatus.ATTACHING },
        {},
      );
    });
    return (await getAttachment(this.o.db, id))!;
  }
}
