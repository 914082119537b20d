/**
 * Volume types (cinder/api/v3/types.py, cinder/api/contrib/types_manage.py,
 * cinder/api/contrib/volume_type_access.py, cinder/volume/volume_types.py). A private type is
 * visible to admins and to the projects in its access list; to anyone else it does not exist.
 * Extra specs live in ./typeExtraSpecs.ts.
 */
import {
  Conflict,
  InvalidVolumeType,
  NotFound,
  VolumeTypeExists,
  VolumeTypeNotFound,
} from "../../common/errors";
import { renameTypeResources } from "../../db/quotas";
import {
  addTypeProject,
  findVolumeType,
  getVolumeType,
  insertVolumeType,
  listTypeProjects,
  listVolumeTypes,
  removeTypeProject,
  softDeleteVolumeType,
  typeNameTaken,
  typeVisibleTo,
  updateVolumeType,
  type VolumeType,
  volumeTypeInUse,
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

/** PUT /types/{id}: an absent (or null) field is left as it is. */
export interface UpdateTypeRequest {
  name: string | null;
  description: string | null;
  isPublic: boolean | null;
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

/**
 * Cinder's `get_volume_type` under the caller's context: a private type the caller's project has
 * no access to is "could not be found", for members and admins alike unless `elevated`.
 */
export async function visibleType(
  o: VolumeApiOptions,
  caller: Caller,
  id: string,
  elevated = caller.isAdmin,
): Promise<VolumeType> {
  const type = await getVolumeType(o.db, id);
  if (!type || (!elevated && !(await typeVisibleTo(o.db, type, caller.projectId)))) {
    throw new VolumeTypeNotFound(id);
  }
  return type;
}

export class TypeApi {
  constructor(private readonly o: VolumeApiOptions) {}

  /**
   * Members see public types and the private ones shared with their project; admins choose with
   * `is_public` (absent: the same as a member, "none": every type).
   */
  list(caller: Caller, isPublic?: string): Promise<VolumeType[]> {
    const filter = caller.isAdmin ? parseIsPublic(isPublic) : true;
    return listVolumeTypes(this.o.db, { isPublic: filter, projectId: caller.projectId });
  }

  async get(caller: Caller, id: string): Promise<VolumeType> {
    if (id === "default") {
      const type = await findVolumeType(this.o.db, this.o.config.defaultVolumeType);
      if (!type) {
        throw new NotFound("Default volume type can not be found.");
      }
      return type;
    }
    return visibleType(this.o, caller, id);
  }

  async create(caller: Caller, r: CreateTypeRequest): Promise<VolumeType> {
    authorize(caller, AdminPolicy.TYPE_CREATE);
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

  /** Cinder's `_update` then `volume_types.update`: the checks in Cinder's order. */
  async update(caller: Caller, id: string, r: UpdateTypeRequest): Promise<VolumeType> {
    authorize(caller, AdminPolicy.TYPE_UPDATE);
    if (r.name !== null && r.name.trim().length === 0) {
      throw new BadRequest("Volume type name can not be empty.");
    }
    if (r.name === null && r.description === null && r.isPublic === null) {
      throw new BadRequest("Specify volume type name, description, is_public or a combination thereof.");
    }
    const type = await visibleType(this.o, caller, id);
    if (r.name !== null && (await typeNameTaken(this.o.db, r.name, id))) {
      throw new VolumeTypeExists(r.name);
    }
    const change: { name?: string; description?: string; is_public?: boolean } = {};
    if (r.name !== null) {
      change.name = r.name;
    }
    if (r.description !== null) {
      change.description = r.description;
    }
    if (r.isPublic !== null) {
      change.is_public = r.isPublic;
    }
    try {
      await this.o.db.transaction(async (trx) => {
        if (!(await updateVolumeType(trx, id, change))) {
          throw new VolumeTypeNotFound(id);
        }
        // Cinder renames the type's quota resources with it (update_quota_resource).
        if (change.name !== undefined && change.name !== type.name) {
          await renameTypeResources(trx, type.name, change.name);
        }
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new VolumeTypeExists(r.name ?? id);
      }
      throw err;
    }
    return (await getVolumeType(this.o.db, id))!;
  }

  async delete(caller: Caller, id: string): Promise<void> {
    authorize(caller, AdminPolicy.TYPE_DELETE);
    const type = await getVolumeType(this.o.db, id);
    if (!type) {
      throw new VolumeTypeNotFound(id);
    }
    if (type.name === this.o.config.defaultVolumeType) {
      throw new BadRequest(`The volume type ${id} is a default volume type and cannot be deleted.`);
    }
    if (await volumeTypeInUse(this.o.db, id)) {
      throw new BadRequest("Target volume type is still in use.");
    }
    if (!(await softDeleteVolumeType(this.o.db, id))) {
      throw new VolumeTypeNotFound(id);
    }
  }

  /** GET /types/{id}/os-volume-type-access: the projects of a private type (admin). */
  async accessList(caller: Caller, id: string): Promise<string[]> {
    authorize(caller, AdminPolicy.TYPE_ACCESS_LIST);
    const type = await visibleType(this.o, caller, id);
    if (type.is_public) {
      throw new NotFound("Access list not available for public volume types.");
    }
    return listTypeProjects(this.o.db, id);
  }

  /** addProjectAccess: only private types have an access list (Cinder's add_volume_type_access). */
  async addAccess(caller: Caller, id: string, projectId: string): Promise<void> {
    authorize(caller, AdminPolicy.TYPE_ACCESS_ADD);
    const type = await this.privateType(id);
    if (!(await addTypeProject(this.o.db, type.id, projectId))) {
      throw new Conflict(`Volume type access for ${type.id} / ${projectId} combination already exists.`);
    }
  }

  async removeAccess(caller: Caller, id: string, projectId: string): Promise<void> {
    authorize(caller, AdminPolicy.TYPE_ACCESS_REMOVE);
    const type = await this.privateType(id);
    if (!(await removeTypeProject(this.o.db, type.id, projectId))) {
      throw new NotFound(`Volume type access not found for ${type.id} / ${projectId} combination.`);
    }
  }

  /** Cinder refuses access changes on a public type (add/remove_volume_type_access). */
  private async privateType(id: string): Promise<VolumeType> {
    const type = await getVolumeType(this.o.db, id);
    if (!type) {
      throw new VolumeTypeNotFound(id);
    }
    if (type.is_public) {
      throw new InvalidVolumeType("Type access modification is not applicable to public volume type.");
    }
    return type;
  }
}
