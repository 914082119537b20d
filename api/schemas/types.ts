/**
 * Schemas of /types (cinder/api/schemas/volume_types.py, types_extra_specs.py,
 * volume_type_access.py).
 */
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

/** parameter_types.update_name. */
const updateName = { type: ["string", "null"], minLength: 1, maxLength: 255 };

export const validateUpdateType = compileSchema({
  type: "object",
  properties: {
    volume_type: {
      type: "object",
      properties: { name: updateName, description, is_public: boolean },
      additionalProperties: false,
    },
  },
  required: ["volume_type"],
  additionalProperties: false,
});

/** parameter_types.extra_specs_with_no_spaces_key. */
const extraSpecsNoSpacesKey = {
  type: "object",
  patternProperties: {
    "^[a-zA-Z0-9-_:.]{1,255}$": { type: ["string", "null"], minLength: 0, maxLength: 255 },
  },
  additionalProperties: false,
};

export const validateCreateExtraSpecs = compileSchema({
  type: "object",
  properties: { extra_specs: extraSpecsNoSpacesKey },
  required: ["extra_specs"],
  additionalProperties: false,
});

export const validateUpdateExtraSpec = compileSchema({
  ...extraSpecsNoSpacesKey,
  minProperties: 1,
  maxProperties: 1,
});

function projectAccess(action: string): Record<string, unknown> {
  return {
    type: "object",
    properties: {
      [action]: {
        type: "object",
        properties: { project: { type: "string", minLength: 1, maxLength: 255 } },
        required: ["project"],
        additionalProperties: false,
      },
    },
    required: [action],
    additionalProperties: false,
  };
}

export const validateAddProjectAccess = compileSchema(projectAccess("addProjectAccess"));
export const validateRemoveProjectAccess = compileSchema(projectAccess("removeProjectAccess"));
