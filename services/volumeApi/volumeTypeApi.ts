/**
 * Volume types (cinder/api/v3/types.py, cinder/api/contrib/types_manage.py,
 * cinder/volume/volume_types.py). Private types have no access lists here: only admins see them.
 */
import { NotFound, VolumeTypeExists, VolumeTypeNotFound } from "../../common/errors";
import {
  findVolumeType,
  getVolumeType,
  insertVolumeType,
  listVolumeTypes,
  softDeleteVolumeType,
  type VolumeType,
} from "../../db/volumeTypes";
import { BadRequest } from "./badRequest";
import { AdminPolicy, authorize, type Caller } from "./caller";
import type { VolumeApiOptions } from "./lookup";

export interface CreateTypeRequest {
  name: string;
  description: string | null;
  extraSpecs: Record<string, string | null>;
  isPublic: boolean;
}

/** Cinder's `_parse_is_public`: absent → public only, "none" → all, else a strict boolean. */
function parseIsPublic(value: string | undefined): boolean | undefined {
  if (value === undefined) {
    return true;
  }
  const v = value.trim().toLowerCase();
  if (v === "none") {
    return undefined;
  }
  if (["1", "t", "true", "on", "y", "yes"].includes(v)) {
    return true;
  }
  if (["0", "f", "false", "off", "n", "no"].includes(v)) {
    return false;
  }
  throw new BadRequest(`Invalid is_public filter [${value}]`);
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "23505";
}

export class TypeApi {
  constructor(private readonly o: VolumeApiOptions) {}

  list(caller: Caller, isPublic?: string): Promise<VolumeType[]> {
    return listVolumeTypes(this.o.db, { isPublic: caller.isAdmin ? parseIsPublic(isPublic) : true });
  }

  async get(caller: Caller, id: string): Promise<VolumeType> {
    if (id === "default") {
      const type = await findVolumeType(this.o.db, this.o.config.defaultVolumeType);
      if (!type) {
        throw new NotFound("Default volume type can not be found.");
      }
      return type;
    }
    const type = await getVolumeType(this.o.db, id);
    if (!type || (!type.is_public && !caller.isAdmin)) {
      throw new VolumeTypeNotFound(id);
    }
    return type;
  }

  async create(caller: Caller, r: CreateTypeRequest): Promise<VolumeType> {
    authorize(caller, AdminPolicy.TYPES_MANAGE);
    // The extra_specs column cannot hold NULL; a null value means "no such spec".
    const specs = Object.fromEntries(
      Object.entries(r.extraSpecs).filter((e): e is [string, string] => e[1] !== null),
    );
    try {
      return await insertVolumeType(this.o.db, {
        name: r.name,
        description: r.description,
        is_public: r.isPublic,
        extra_specs: specs,
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new VolumeTypeExists(r.name);
      }
      throw err;
    }
  }

  async delete(caller: Caller, id: string): Promise<void> {
    authorize(caller, AdminPolicy.TYPES_MANAGE);
    const type = await getVolumeType(this.o.db, id);
    if (!type) {
      throw new VolumeTypeNotFound(id);
    }
    if (type.name === this.o.config.defaultVolumeType) {
      throw new BadRequest(`The volume type ${id} is a default volume type and cannot be deleted.`);
    }
    // db/volumes.ts has no "by type" filter; this read is the only one the API needs.
    const inUse = await this.o.db("volumes").where({ volume_type_id: id, deleted: false }).first("id");
    if (inUse) {
      throw new BadRequest("Target volume type is still in use.");
    }
    if (!(await softDeleteVolumeType(this.o.db, id))) {
      throw new VolumeTypeNotFound(id);
    }
  }
}
