/** Schema of POST /types (cinder/api/schemas/volume_types.py). */
import { compileSchema } from "../validation/validator";
import { boolean, description, extraSpecsWithNull, name } from "./parameterTypes";

export const validateCreateType = compileSchema({
  type: "object",
  properties: {
    volume_type: {
      type: "object",
      properties: {
        name,
        description,
        extra_specs: extraSpecsWithNull,
        "os-volume-type-access:is_public": boolean,
      },
      required: ["name"],
      additionalProperties: false,
    },
  },
  required: ["volume_type"],
  additionalProperties: false,
});
