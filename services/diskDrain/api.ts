/**
 * The admin `disk-drains` resource (beyond Cinder, issue 16), the API process's half: start a
 * drain of one physical volume of an LVM backend (its worker checks the room first, so a refusal
 * is a 400 with LVM's figures), list and show drains with their progress, and cancel one. Every
 * status change is a compare-and-swap; the backend's worker moves the row on (worker.ts).
 */
import { Conflict, InvalidInput, NotFound, PolicyNotAuthorized } from "../../common/errors";
import { parseHost } from "../../common/hosts";
import { ACTIVE_DISK_DRAIN_STATUSES, DiskDrainStatus, ServiceBinary } from "../../common/states";
import {
  type DiskDrainRow,
  getDiskDrain,
  insertDiskDrain,
  listDiskDrains,
  updateDiskDrainIf,
} from "../../db/diskDrains";
import { listServices } from "../../db/services";
import { isUuid } from "../../db/volumes";
import { DiskDrainRpc } from "../rpc/diskDrainMethods";
import type { Caller } from "../volumeApi/caller";
import type { VolumeApiOptions } from "../volumeApi/lookup";

/** Policy names of the resource, all admin-only (`rule:admin_api`). */
export const DiskDrainPolicy = {
  CREATE: "volume_extension:disk_drains:create",
  GET_ALL: "volume_extension:disk_drains:get_all",
  GET: "volume_extension:disk_drains:get",
  CANCEL: "volume_extension:disk_drains:cancel",
} as const;
type DiskDrainPolicy = (typeof DiskDrainPolicy)[keyof typeof DiskDrainPolicy];

function authorize(caller: Caller, rule: DiskDrainPolicy): void {
  if (!caller.isAdmin) {
    throw new PolicyNotAuthorized(rule);
  }
}

/** Seconds between progress samples unless the request sets them (pvmove's -i). */
export const DEFAULT_INTERVAL_SECS = 5;

export class DiskDrainNotFound extends NotFound {
  constructor(id: string) {
    super(`Disk drain ${id} could not be found.`);
  }
}

/** A validated create request (api/schemas/diskDrains.ts). */
export interface CreateDiskDrainRequest {
  backend: string;
  pv: string;
  remove_from_group?: boolean;
  interval?: number;
}

export class DiskDrainApi {
  private readonly rpc: DiskDrainRpc;

  constructor(private readonly o: VolumeApiOptions) {
    this.rpc = new DiskDrainRpc(o.bus);
  }

  async create(caller: Caller, r: CreateDiskDrainRequest): Promise<DiskDrainRow> {
    authorize(caller, DiskDrainPolicy.CREATE);
    const parsed = parseHost(r.backend);
    if (!parsed.backend || parsed.pool) {
      throw new InvalidInput(`backend must be host@backend, not ${JSON.stringify(r.backend)}`);
    }
    const [service] = await listServices(this.o.db, this.o.config.serviceDownTime, {
      binary: ServiceBinary.VOLUME,
      host: r.backend,
    });
    if (!service) {
      throw new InvalidInput(`no volume service ${r.backend}`);
    }
    if (!service.is_up) {
      throw new InvalidInput(`volume service ${r.backend} is down`);
    }
    if ((await listDiskDrains(this.o.db, { backend: r.backend })).some(isActive)) {
      throw new Conflict(`backend ${r.backend} is draining a disk already`);
    }
    const check = await this.rpc.check(r.backend, r.pv);
    if ("error" in check) {
      throw new InvalidInput(`cannot drain ${r.pv} of ${r.backend}: ${check.error}`);
    }
    const row = await insertDiskDrain(this.o.db, {
      backend: r.backend,
      pv: check.pv,
      vg: check.vg,
      remove_from_group: r.remove_from_group ?? false,
      interval: r.interval ?? DEFAULT_INTERVAL_SECS,
      bytes_total: check.used_bytes,
      project_id: caller.projectId,
      user_id: caller.userId,
    });
    if (!row) {
      throw new Conflict(`backend ${r.backend} is draining a disk already`);
    }
    await this.rpc.drain(r.backend, row.id);
    return row;
  }

  async list(
    caller: Caller,
    filter: { backend?: string; status?: DiskDrainStatus },
  ): Promise<DiskDrainRow[]> {
    authorize(caller, DiskDrainPolicy.GET_ALL);
    return listDiskDrains(this.o.db, filter);
  }

  async get(caller: Caller, id: string): Promise<DiskDrainRow> {
    authorize(caller, DiskDrainPolicy.GET);
    const row = isUuid(id) ? await getDiskDrain(this.o.db, id) : undefined;
    if (!row) {
      throw new DiskDrainNotFound(id);
    }
    return row;
  }

  /** `pending` or `moving` → `cancelling`; the worker aborts pvmove within one interval. */
  async cancel(caller: Caller, id: string): Promise<void> {
    authorize(caller, DiskDrainPolicy.CANCEL);
    const row = await this.get(caller, id);
    const done = await updateDiskDrainIf(
      this.o.db,
      id,
      { status: DiskDrainStatus.CANCELLING },
      { status: [DiskDrainStatus.PENDING, DiskDrainStatus.MOVING] },
    );
    if (!done) {
      throw new Conflict(`Disk drain ${id} is ${row.status} and cannot be cancelled.`);
    }
  }
}

function isActive(row: DiskDrainRow): boolean {
  return ACTIVE_DISK_DRAIN_STATUSES.includes(row.status);
}
