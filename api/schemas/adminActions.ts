/**
 * Schemas of the admin volume actions (cinder/api/schemas/admin_actions.py). Each is the whole
 * request body, `{"<action>": {...}}`, as Cinder validates it.
 */
import type { ApiVersion } from "../microversion";
import { compileSchema } from "../validation/validator";
import { boolean, nameAllowZeroMinLength, uuid } from "./parameterTypes";

/** Microversion that added `cluster` to os-migrate_volume (VOLUME_MIGRATE_CLUSTER). */
export const MIGRATE_CLUSTER_VERSION = "3.16";

const migrateVolume = {
  type: "object",
  properties: {
    "os-migrate_volume": {
      type: "object",
      properties: {
        host: { type: "string", maxLength: 255 },
        force_host_copy: boolean,
        lock_volume: boolean,
      },
      required: ["host"],
      additionalProperties: false,
    },
  },
  required: ["os-migrate_volume"],
  additionalProperties: false,
};

const migrateVolumeV316 = {
  type: "object",
  properties: {
    "os-migrate_volume": {
      type: "object",
      properties: {
        host: { type: ["string", "null"], maxLength: 255 },
        force_host_copy: boolean,
        lock_volume: boolean,
        cluster: nameAllowZeroMinLength,
      },
      additionalProperties: false,
    },
  },
  required: ["os-migrate_volume"],
  additionalProperties: false,
};

const resetStatus = {
  type: "object",
  properties: {
    "os-reset_status": {
      type: "object",
      cinderFormat: "validate_volume_reset_body",
      properties: {
        status: { type: ["string", "null"], cinderFormat: "volume_status" },
        attach_status: { type: ["string", "null"], cinderFormat: "volume_attach_status" },
        migration_status: { type: ["string", "null"], cinderFormat: "volume_migration_status" },
      },
      additionalProperties: false,
    },
  },
  required: ["os-reset_status"],
  additionalProperties: false,
};

const validateMigrate = compileSchema(migrateVolume);
const validateMigrateV316 = compileSchema(migrateVolumeV316);

export function validateMigrateVolume(body: unknown, version: ApiVersion): void {
  (version.matches(MIGRATE_CLUSTER_VERSION) ? validateMigrateV316 : validateMigrate)(body);
}

export const validateResetStatus = compileSchema(resetStatus);

/** Any value: Cinder's `{'os-force_delete': {}}` puts no constraint on the action's value. */
export const validateForceDelete = compileSchema({
  type: "object",
  properties: { "os-force_delete": {} },
  required: ["os-force_delete"],
  additionalProperties: false,
});

export const validateForceDetach = compileSchema({
  type: "object",
  properties: {
    "os-force_detach": {
      type: "object",
      properties: {
        connector: { type: ["string", "object", "null"] },
        attachment_id: { type: ["string", "null"] },
      },
      additionalProperties: false,
    },
  },
  required: ["os-force_detach"],
  additionalProperties: false,
});

export const validateMigrateVolumeCompletion = compileSchema({
  type: "object",
  properties: {
    "os-migrate_volume_completion": {
      type: "object",
      properties: {
        new_volume: uuid,
        error: { type: ["string", "null", "boolean"] },
      },
      required: ["new_volume"],
      additionalProperties: false,
    },
  },
  required: ["os-migrate_volume_completion"],
  additionalProperties: false,
});
