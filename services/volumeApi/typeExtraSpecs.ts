/**
 * /types/{id}/extra_specs (cinder/api/contrib/types_extra_specs.py): anyone who can see the type
 * reads its specs (members only the user-visible ones), admins change them, and never while a
 * volume has the type. The checks run in Cinder's order, which differs per method.
 */
import { NotFound } from "../../common/errors";
import { deleteExtraSpec, setExtraSpecs, type VolumeType, volumeTypeInUse } from "../../db/volumeTypes";
import { BadRequest } from "./badRequest";
import { AdminPolicy, authorize, type Caller } from "./caller";
import type { VolumeApiOptions } from "./lookup";
import { visibleType } from "./volumeTypeApi";

/** Specs members may read (cinder/policies/type_extra_specs.py USER_VISIBLE_EXTRA_SPECS). */
export const USER_VISIBLE_EXTRA_SPECS: readonly string[] = [
  "RESKEY:availability_zones",
  "multiattach",
  "replication_enabled",
];

/** The specs a caller may read: all for admins (read_sensitive), else the user-visible ones. */
export function readableSpecs(type: Pick<VolumeType, "extra_specs">, caller: Caller): Record<string, string> {
  if (caller.isAdmin) {
    return type.extra_specs;
  }
  return Object.fromEntries(
    Object.entries(type.extra_specs).filter(([k]) => USER_VISIBLE_EXTRA_SPECS.includes(k)),
  );
}

const IS_TRUE = "<is> True";

export class TypeExtraSpecsApi {
  constructor(private readonly o: VolumeApiOptions) {}

  async list(caller: Caller, typeId: string): Promise<Record<string, string>> {
    return readableSpecs(await visibleType(this.o, caller, typeId), caller);
  }

  async show(caller: Caller, typeId: string, key: string): Promise<string> {
    const specs = await this.list(caller, typeId);
    const value = specs[key];
    if (value === undefined) {
      throw this.noSuchKey(typeId, key);
    }
    return value;
  }

  /** POST: create or update every key given (a null value is not stored). */
  async set(caller: Caller, typeId: string, specs: Record<string, string | null>): Promise<void> {
    authorize(caller, AdminPolicy.TYPE_EXTRA_SPECS_CREATE);
    await this.allowUpdate(typeId);
    const type = await visibleType(this.o, caller, typeId);
    this.checkCacheable(type, specs);
    await setExtraSpecs(this.o.db, type.id, withoutNulls(specs));
  }

  /** PUT /extra_specs/{key} with a body of exactly that one key. */
  async update(
    caller: Caller,
    typeId: string,
    key: string,
    body: Record<string, string | null>,
  ): Promise<void> {
    authorize(caller, AdminPolicy.TYPE_EXTRA_SPECS_UPDATE);
    await this.allowUpdate(typeId);
    const type = await visibleType(this.o, caller, typeId);
    if (!(key in body)) {
      throw new BadRequest("Request body and URI mismatch");
    }
    this.checkCacheable(type, body);
    await setExtraSpecs(this.o.db, type.id, withoutNulls(body));
  }

  async delete(caller: Caller, typeId: string, key: string): Promise<void> {
    const type = await visibleType(this.o, caller, typeId);
    authorize(caller, AdminPolicy.TYPE_EXTRA_SPECS_DELETE);
    await this.allowUpdate(typeId);
    if (!(await deleteExtraSpec(this.o.db, type.id, key))) {
      throw this.noSuchKey(typeId, key);
    }
  }

  /** Cinder's `_allow_update`: a type some volume has keeps its specs. */
  private async allowUpdate(typeId: string): Promise<void> {
    if (await volumeTypeInUse(this.o.db, typeId)) {
      throw new BadRequest("Volume Type is currently in use.");
    }
  }

  /** Cinder's `_check_cacheable`: `cacheable` and `multiattach` may not both be `<is> True`. */
  private checkCacheable(type: VolumeType, specs: Record<string, string | null>): void {
    const ma = specs["multiattach"] === IS_TRUE;
    const ca = specs["cacheable"] === IS_TRUE;
    if (
      (ma && type.extra_specs["cacheable"] === IS_TRUE) ||
      (ca && type.extra_specs["multiattach"] === IS_TRUE) ||
      (ca && ma)
    ) {
      throw new BadRequest("cacheable cannot be set with multiattach.");
    }
  }

  private noSuchKey(typeId: string, key: string): NotFound {
    return new NotFound(`Volume Type ${typeId} has no extra specs with key ${key}.`);
  }
}

function withoutNulls(specs: Record<string, string | null>): Record<string, string> {
  return Object.fromEntries(Object.entries(specs).filter((e): e is [string, string] => e[1] !== null));
}
