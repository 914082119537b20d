/** Schemas of POST and PUT /volumes per microversion (cinder/api/schemas/volumes.py). */
import type { ApiVersion } from "../microversion";
import { compileSchema, type JsonSchema } from "../validation/validator";
import {
  availabilityZone,
  extraSpecs,
  metadataAllowsNull,
  nameAllowZeroMinLength,
  optionalBoolean,
  optionalUuid,
  volumeSizeAllowsNull,
} from "./parameterTypes";

const nameField = { type: ["string", "null"], cinderFormat: "name_non_mandatory_remove_white_spaces" };
const descriptionField = {
  type: ["string", "null"],
  cinderFormat: "description_non_mandatory_remove_white_spaces",
};

function createSchema(extra: Record<string, unknown>, additional: boolean): JsonSchema {
  return {
    type: "object",
    properties: {
      volume: {
        type: "object",
        properties: {
          name: nameField,
          description: descriptionField,
          display_name: nameField,
          display_description: descriptionField,
          volume_type: nameAllowZeroMinLength,
          metadata: metadataAllowsNull,
          snapshot_id: optionalUuid,
          source_volid: optionalUuid,
          consistencygroup_id: optionalUuid,
          size: volumeSizeAllowsNull,
          availability_zone: availabilityZone,
          multiattach: optionalBoolean,
          image_id: { type: ["string", "null"], minLength: 0, maxLength: 255 },
          imageRef: { type: ["string", "null"], minLength: 0, maxLength: 255 },
          ...extra,
        },
        additionalProperties: additional,
      },
      "OS-SCH-HNT:scheduler_hints": { type: ["object", "null"] },
    },
    required: ["volume"],
    additionalProperties: false,
  };
}

const groupId = { group_id: { type: ["string", "null"], minLength: 0, maxLength: 255 } };
const backupId = { backup_id: optionalUuid };

// 3.13 adds group_id, 3.47 backup_id, 3.53 refuses unknown keys.
const validators: [string, (body: unknown) => void][] = [
  ["3.53", compileSchema(createSchema({ ...groupId, ...backupId }, false))],
  ["3.47", compileSchema(createSchema({ ...groupId, ...backupId }, true))],
  ["3.13", compileSchema(createSchema(groupId, true))],
  ["3.0", compileSchema(createSchema({}, true))],
];

export function validateCreateVolume(body: unknown, version: ApiVersion): void {
  const found = validators.find(([min]) => version.matches(min));
  found![1](body);
}

function updateSchema(atLeastOne: boolean): JsonSchema {
  const volume: Record<string, unknown> = {
    type: "object",
    properties: {
      name: nameField,
      description: descriptionField,
      display_name: nameField,
      display_description: descriptionField,
      metadata: extraSpecs,
    },
    additionalProperties: false,
  };
  if (atLeastOne) {
    // 3.53 (SUPPORT_VOLUME_SCHEMA_CHANGES) requires something to update.
    volume["anyOf"] = ["name", "description", "display_name", "display_description", "metadata"].map((k) => ({
      required: [k],
    }));
  }
  return { type: "object", properties: { volume }, required: ["volume"], additionalProperties: false };
}

const validateUpdate = compileSchema(updateSchema(false));
const validateUpdateV353 = compileSchema(updateSchema(true));

export function validateUpdateVolume(body: unknown, version: ApiVersion): void {
  (version.matches("3.53") ? validateUpdateV353 : validateUpdate)(body);
}
