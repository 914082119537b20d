/** Schemas of os-volume-transfer and volume-transfers (cinder/api/schemas/volume_transfer.py). */
import { compileSchema, type JsonSchema } from "../validation/validator";
import { boolean, uuid } from "./parameterTypes";

function createSchema(withNoSnapshots: boolean): JsonSchema {
  return {
    type: "object",
    properties: {
      transfer: {
        type: "object",
        properties: {
          volume_id: uuid,
          name: { oneOf: [{ type: "string", maxLength: 255 }, { type: "null" }] },
          ...(withNoSnapshots ? { no_snapshots: boolean } : {}),
        },
        required: ["volume_id"],
        additionalProperties: false,
      },
    },
    required: ["transfer"],
    additionalProperties: false,
  };
}

/** os-volume-transfer at every version, volume-transfers below 3.55. */
export const validateCreateTransfer = compileSchema(createSchema(false));
/** volume-transfers from 3.55 (TRANSFER_WITH_SNAPSHOTS). */
export const validateCreateTransfer355 = compileSchema(createSchema(true));

export const validateAcceptTransfer = compileSchema({
  type: "object",
  properties: {
    accept: {
      type: "object",
      properties: { auth_key: { type: ["string", "integer"] } },
      required: ["auth_key"],
      additionalProperties: false,
    },
  },
  required: ["accept"],
  additionalProperties: false,
});
