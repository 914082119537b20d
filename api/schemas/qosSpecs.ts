/** Schemas of /qos-specs (cinder/api/schemas/qos_specs.py). */
import { compileSchema } from "../validation/validator";
import { extraSpecsWithNull } from "./parameterTypes";

/**
 * `name` plus any keys. Cinder's name_skip_leading_trailing_spaces format refuses an empty or
 * blank name with the `name` format's message; its 255-character limit is the maxLength here.
 */
export const validateCreateQos = compileSchema({
  type: "object",
  properties: {
    qos_specs: {
      type: "object",
      properties: { name: { type: "string", cinderFormat: "name", maxLength: 255 } },
      required: ["name"],
      additionalProperties: true,
    },
  },
  required: ["qos_specs"],
  additionalProperties: false,
});

export const validateSetQosKeys = compileSchema({
  type: "object",
  properties: { qos_specs: extraSpecsWithNull },
  required: ["qos_specs"],
  additionalProperties: false,
});

export const validateUnsetQosKeys = compileSchema({
  type: "object",
  properties: {
    keys: {
      type: "array",
      items: { type: "string", minLength: 1, maxLength: 255 },
      uniqueItems: true,
    },
  },
  required: ["keys"],
  additionalProperties: false,
});
