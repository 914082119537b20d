/**
 * Cinder's reusable parameter types (cinder/api/validation/parameter_types.py), restated for ajv.
 * Key order inside each object matters: it decides which error is reported first (see
 * api/validation/validator.ts). `cinderFormat` stands where Cinder writes `format`, and
 * `numericMinimum`/`numericMaximum` where it writes its string-tolerant minimum/maximum.
 */

/** Largest value of a signed 32-bit INT column (cinder.common.constants.DB_MAX_INT). */
export const DB_MAX_INT = 0x7fffffff;

/** Printable characters only, as Cinder's generated `valid_description_regex`. */
const DESCRIPTION_REGEX = "^[^\\p{C}\\p{Zl}\\p{Zp}]*$";

const METADATA_KEY = "^[a-zA-Z0-9-_:. /]{1,255}$";

export const boolean = {
  type: ["boolean", "string"],
  enum: [
    true,
    "True",
    "TRUE",
    "true",
    "1",
    "ON",
    "On",
    "on",
    "YES",
    "Yes",
    "yes",
    "y",
    "t",
    false,
    "False",
    "FALSE",
    "false",
    "0",
    "OFF",
    "Off",
    "off",
    "NO",
    "No",
    "no",
    "n",
    "f",
  ],
} as const;

/** strutils.bool_from_string(strict=True) for a value that passed the `boolean` schema. */
export function toBool(value: unknown, dflt = false): boolean {
  if (value === undefined || value === null) {
    return dflt;
  }
  if (typeof value === "boolean") {
    return value;
  }
  return ["1", "on", "yes", "y", "t", "true"].includes(String(value).trim().toLowerCase());
}

export const optionalBoolean = { oneOf: [{ type: "null" }, boolean] };

export const name = { type: "string", minLength: 1, maxLength: 255, cinderFormat: "name" };

export const nameAllowZeroMinLength = { type: ["string", "null"], minLength: 0, maxLength: 255 };

export const description = {
  type: ["string", "null"],
  minLength: 0,
  maxLength: 255,
  pattern: DESCRIPTION_REGEX,
};

export const uuid = { type: "string", cinderFormat: "uuid" };

export const uuidAllowNull = { oneOf: [uuid, { type: "null" }] };

export const optionalUuid = { oneOf: [{ type: "null" }, uuid] };

export const metadataAllowsNull = {
  type: ["object", "null"],
  patternProperties: { [METADATA_KEY]: { type: "string", maxLength: 255 } },
  additionalProperties: false,
};

/** Cinder's `extra_specs` type, also its volume metadata. */
export const extraSpecs = {
  type: "object",
  patternProperties: { [METADATA_KEY]: { type: "string", maxLength: 255 } },
  additionalProperties: false,
};

export const extraSpecsWithNull = {
  type: "object",
  patternProperties: { [METADATA_KEY]: { type: ["string", "null"], maxLength: 255 } },
  additionalProperties: false,
};

export const volumeSize = {
  type: ["integer", "string"],
  pattern: "^[0-9]+$",
  numericMinimum: 1,
  numericMaximum: DB_MAX_INT,
};

export const volumeSizeAllowsNull = {
  type: ["integer", "string", "null"],
  pattern: "^[0-9]+$",
  numericMinimum: 1,
  numericMaximum: DB_MAX_INT,
};

export const availabilityZone = { type: ["string", "null"], minLength: 1, maxLength: 255 };
