/**
 * QoS specs (cinder/api/contrib/qos_specs_manage.py, cinder/volume/qos_specs.py): admin only. A
 * spec is a name, a consumer (front-end, back-end or both) and free key/value pairs; a volume
 * type has at most one. Nothing here enforces the limits (no driver implements QoS): they are
 * recorded, associated and shown, and a retype of an in-use volume may not change the front-end
 * ones (./retype.ts).
 */
import { Conflict, InvalidInput, InvalidVolumeType, NotFound } from "../../common/errors";
import { QOS_CONSUMERS, QosConsumer } from "../../common/states";
import {
  associateQos,
  deleteQosKey,
  disassociateQos,
  getQosSpecs,
  insertQosSpecs,
  listQosSpecs,
  qosAssociations,
  type QosSpecs,
  softDeleteQosSpecs,
  touchQosSpecs,
  updateQosSpecs,
} from "../../db/qosSpecs";
import { BadRequest } from "./badRequest";
import { AdminPolicy, authorize, type Caller } from "./caller";
import type { VolumeApiOptions } from "./lookup";
import { visibleType } from "./volumeTypeApi";

export interface QosAssociation {
  association_type: "volume_type";
  id: string;
  name: string;
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "23505";
}

/** utils.validate_dictionary_string_length, then the consumer out of the specs. */
function splitSpecs(specs: Record<string, unknown>): {
  consumer?: QosConsumer;
  specs: Record<string, string>;
} {
  const out: Record<string, string> = {};
  let consumer: QosConsumer | undefined;
  for (const [key, value] of Object.entries(specs)) {
    if (key.length < 1 || key.length > 255) {
      throw new InvalidInput(`Key "${key}" has ${key.length} characters, more than 255.`);
    }
    if (value === null || value === undefined) {
      continue;
    }
    if (typeof value !== "string") {
      throw new InvalidInput(`Value for key "${key}" is not a string or unicode`);
    }
    if (value.length > 255) {
      throw new InvalidInput(`Value for key "${key}" has ${value.length} characters, more than 255.`);
    }
    if (key === "consumer") {
      if (!(QOS_CONSUMERS as readonly string[]).includes(value)) {
        throw new BadRequest(
          `Invalid qos specs: consumer must be one of ${QOS_CONSUMERS.join(", ")}, not ${value}.`,
        );
      }
      consumer = value as QosConsumer;
    } else {
      out[key] = value;
    }
  }
  return { consumer, specs: out };
}

export class QosApi {
  constructor(private readonly o: VolumeApiOptions) {}

  list(caller: Caller): Promise<QosSpecs[]> {
    authorize(caller, AdminPolicy.QOS_GET_ALL);
    return listQosSpecs(this.o.db);
  }

  async get(caller: Caller, id: string): Promise<QosSpecs> {
    authorize(caller, AdminPolicy.QOS_GET);
    return this.find(id);
  }

  /** POST /qos-specs: `name` (stripped) plus the keys, `consumer` among them (default back-end). */
  async create(caller: Caller, body: Record<string, unknown>): Promise<QosSpecs> {
    authorize(caller, AdminPolicy.QOS_CREATE);
    const { name: rawName, ...rest } = body;
    const name = String(rawName).trim();
    const { consumer, specs } = splitSpecs(rest);
    try {
      return await insertQosSpecs(this.o.db, { name, consumer: consumer ?? QosConsumer.BACK_END, specs });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new Conflict(`QoS Specs ${name} already exists.`);
      }
      throw err;
    }
  }

  /** PUT /qos-specs/{id}: create or update keys (and the consumer); Cinder answers with the body. */
  async update(caller: Caller, id: string, body: Record<string, string | null>): Promise<void> {
    authorize(caller, AdminPolicy.QOS_UPDATE);
    await this.find(id);
    let split;
    try {
      split = splitSpecs(body);
    } catch (err) {
      throw err instanceof InvalidInput ? new BadRequest(`Invalid qos specs: ${err.message}`) : err;
    }
    await updateQosSpecs(this.o.db, id, split);
  }

  /**
   * PUT /qos-specs/{id}/delete_keys: Cinder deletes key by key and stops at the first missing one
   * (the keys before it stay deleted).
   */
  async deleteKeys(caller: Caller, id: string, keys: string[]): Promise<void> {
    authorize(caller, AdminPolicy.QOS_DELETE);
    await this.find(id);
    try {
      for (const key of keys) {
        if (!(await deleteQosKey(this.o.db, id, key))) {
          throw new NotFound(`QoS spec ${id} has no spec with key ${key}.`);
        }
      }
    } finally {
      await touchQosSpecs(this.o.db, id);
    }
  }

  /** DELETE: refused while a type uses it, unless `force` (which disassociates it first). */
  async delete(caller: Caller, id: string, force: boolean): Promise<void> {
    authorize(caller, AdminPolicy.QOS_DELETE);
    await this.find(id);
    if (!force && (await qosAssociations(this.o.db, id)).length > 0) {
      throw new BadRequest("Qos specs still in use.");
    }
    await softDeleteQosSpecs(this.o.db, id);
  }

  async associations(caller: Caller, id: string): Promise<QosAssociation[]> {
    authorize(caller, AdminPolicy.QOS_GET_ALL);
    await this.find(id);
    return (await qosAssociations(this.o.db, id)).map((t) => ({
      association_type: "volume_type",
      id: t.id,
      name: t.name,
    }));
  }

  async associate(caller: Caller, id: string, typeId: string | undefined): Promise<void> {
    authorize(caller, AdminPolicy.QOS_UPDATE);
    const wanted = this.typeParam(typeId);
    await this.find(id);
    const type = await visibleType(this.o, caller, wanted);
    if (!(await associateQos(this.o.db, id, type.id))) {
      const current = (await visibleType(this.o, caller, type.id)).qos_specs_id;
      throw new InvalidVolumeType(`Type ${type.id} is already associated with another qos specs: ${current}`);
    }
  }

  async disassociate(caller: Caller, id: string, typeId: string | undefined): Promise<void> {
    authorize(caller, AdminPolicy.QOS_UPDATE);
    const wanted = this.typeParam(typeId);
    await this.find(id);
    const type = await visibleType(this.o, caller, wanted);
    await disassociateQos(this.o.db, id, type.id);
  }

  async disassociateAll(caller: Caller, id: string): Promise<void> {
    authorize(caller, AdminPolicy.QOS_UPDATE);
    await this.find(id);
    await disassociateQos(this.o.db, id);
  }

  /** The `vol_type_id` query parameter, required. */
  private typeParam(typeId: string | undefined): string {
    if (!typeId) {
      throw new BadRequest("Volume Type id must not be None.");
    }
    return typeId;
  }

  private async find(id: string): Promise<QosSpecs> {
    const q = await getQosSpecs(this.o.db, id);
    if (!q) {
      throw new NotFound(`No such QoS spec ${id}.`);
    }
    return q;
  }
}
