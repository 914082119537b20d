/**
 * /types/{id}/encryption (cinder/api/contrib/volume_type_encryption.py): admin-only, in Cinder's
 * order of checks per method, and never while a live volume has the type (the refusal is part of
 * the write itself: db/volumeTypeEncryption.ts). This service has no key manager, so it creates
 * no volume of an encrypted type (see `refuseEncryptedType`).
 */
import { InvalidInput, NotFound } from "../../common/errors";
import {
  deleteEncryptionIfUnused,
  type EncryptionRow,
  type EncryptionSpecs,
  getEncryption,
  insertEncryptionIfUnused,
  updateEncryptionIfUnused,
} from "../../db/volumeTypeEncryption";
import type { VolumeType } from "../../db/volumeTypes";
import { volumeTypeInUse } from "../../db/volumeTypes";
import { BadRequest } from "./badRequest";
import { AdminPolicy, authorize, type Caller } from "./caller";
import type { VolumeApiOptions } from "./lookup";
import { visibleType } from "./volumeTypeApi";

function encryptionNotFound(typeId: string): NotFound {
  return new NotFound(`Volume type encryption for type ${typeId} does not exist.`);
}

const inUse = (what: string): BadRequest =>
  new BadRequest(`Cannot ${what} encryption specs. Volume type in use.`);

export class TypeEncryptionApi {
  constructor(private readonly o: VolumeApiOptions) {}

  /** GET /types/{id}/encryption: the row, or undefined (Cinder answers `{}`). */
  async show(caller: Caller, typeId: string): Promise<EncryptionRow | undefined> {
    authorize(caller, AdminPolicy.TYPE_ENCRYPTION_GET);
    await visibleType(this.o, caller, typeId);
    return getEncryption(this.o.db, typeId);
  }

  /** POST: in use (400) before an unknown type (404), then one encryption per type (400). */
  async create(
    caller: Caller,
    typeId: string,
    specs: EncryptionSpecs & Pick<EncryptionRow, "provider" | "control_location">,
  ): Promise<EncryptionRow> {
    authorize(caller, AdminPolicy.TYPE_ENCRYPTION_CREATE);
    if (await volumeTypeInUse(this.o.db, typeId)) {
      throw inUse("create");
    }
    await visibleType(this.o, caller, typeId);
    const exists = new BadRequest(`Volume type encryption for type ${typeId} already exists.`);
    if (await getEncryption(this.o.db, typeId)) {
      throw exists;
    }
    let row: EncryptionRow | undefined;
    try {
      row = await insertEncryptionIfUnused(this.o.db, typeId, specs);
    } catch (err) {
      // Another request created it in between: the partial unique index refused this one.
      if ((err as { code?: string }).code === "23505") {
        throw exists;
      }
      throw err;
    }
    if (!row) {
      throw inUse("create");
    }
    return row;
  }

  /** PUT /types/{id}/encryption/{any}: an unknown type (404) before in use (400). */
  async update(caller: Caller, typeId: string, specs: EncryptionSpecs): Promise<void> {
    authorize(caller, AdminPolicy.TYPE_ENCRYPTION_UPDATE);
    await visibleType(this.o, caller, typeId);
    if (await volumeTypeInUse(this.o.db, typeId)) {
      throw inUse("update");
    }
    if (Object.keys(specs).length === 0) {
      if (!(await getEncryption(this.o.db, typeId))) {
        throw encryptionNotFound(typeId);
      }
      return;
    }
    if (!(await updateEncryptionIfUnused(this.o.db, typeId, specs))) {
      throw (await volumeTypeInUse(this.o.db, typeId)) ? inUse("update") : encryptionNotFound(typeId);
    }
  }

  /** DELETE /types/{id}/encryption/{any}: no type lookup, as in Cinder (404 names the encryption). */
  async delete(caller: Caller, typeId: string): Promise<void> {
    authorize(caller, AdminPolicy.TYPE_ENCRYPTION_DELETE);
    if (await volumeTypeInUse(this.o.db, typeId)) {
      throw inUse("delete");
    }
    if (!(await deleteEncryptionIfUnused(this.o.db, typeId))) {
      throw (await volumeTypeInUse(this.o.db, typeId)) ? inUse("delete") : encryptionNotFound(typeId);
    }
  }

  /** GET /types/{id}/encryption/{key}: one field of the encryption (404 when there is none). */
  async showItem(caller: Caller, typeId: string, key: string): Promise<EncryptionRow> {
    authorize(caller, AdminPolicy.TYPE_ENCRYPTION_GET);
    await visibleType(this.o, caller, typeId);
    const row = await getEncryption(this.o.db, typeId);
    if (!row || !Object.hasOwn(row, key)) {
      throw encryptionNotFound(typeId);
    }
    return row;
  }
}

/**
 * Creating (or retyping to) an encrypted type needs a key for the volume from a key manager, which
 * this service does not have: refused rather than making a volume that claims encryption.
 */
export async function refuseEncryptedType(o: VolumeApiOptions, type: VolumeType): Promise<void> {
  if (await getEncryption(o.db, type.id)) {
    throw new InvalidInput(
      `volume type ${type.name} is encrypted, and this service has no key manager to create volume keys.`,
    );
  }
}
