/** Schemas of /types/{id}/encryption (cinder/api/schemas/volume_type_encryption.py). */
import { CONTROL_LOCATIONS } from "../../common/states";
import { compileSchema, type JsonSchema } from "../validation/validator";

/** Cinder's constants.DB_MAX_INT. */
export const DB_MAX_INT = 0x7fffffff;

function encryptionSchema(required: string[]): JsonSchema {
  return {
    type: "object",
    properties: {
      encryption: {
        type: "object",
        properties: {
          key_size: {
            type: ["string", "integer", "null"],
            minimum: 0,
            maximum: DB_MAX_INT,
            cinderFormat: "key_size",
          },
          provider: { type: "string", minLength: 0, maxLength: 255 },
          control_location: { enum: [...CONTROL_LOCATIONS] },
          cipher: { type: ["string", "null"], minLength: 0, maxLength: 255 },
        },
        required,
        additionalProperties: true,
      },
    },
    required: ["encryption"],
    additionalProperties: false,
  };
}

export const validateCreateEncryption = compileSchema(encryptionSchema(["provider", "control_location"]));
export const validateUpdateEncryption = compileSchema(encryptionSchema([]));
