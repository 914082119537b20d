/**
 * Schemas of the user volume actions (cinder/api/schemas/volume_actions.py). Each is the whole
 * request body, `{"<action>": {...}}`, as Cinder validates it.
 */
import { compileSchema, type JsonSchema } from "../validation/validator";
import { boolean, uuid, uuidAllowNull, volumeSize } from "./parameterTypes";

function action(name: string, value: JsonSchema): (body: unknown) => void {
  return compileSchema({
    type: "object",
    properties: { [name]: value },
    required: [name],
    additionalProperties: false,
  });
}

/** Cinder's `{}` schema: the action's value is not looked at. */
const anything = {};

export const validateReserve = action("os-reserve", anything);
export const validateUnreserve = action("os-unreserve", anything);
export const validateBeginDetaching = action("os-begin_detaching", anything);
export const validateRollDetaching = action("os-roll_detaching", anything);

export const validateAttach = action("os-attach", {
  type: "object",
  properties: {
    instance_uuid: uuid,
    mountpoint: { type: "string", minLength: 1, maxLength: 255 },
    host_name: { type: "string", maxLength: 255 },
    mode: { type: "string", enum: ["rw", "ro"] },
  },
  required: ["mountpoint"],
  anyOf: [{ required: ["instance_uuid"] }, { required: ["host_name"] }],
  additionalProperties: false,
});

/** A null value is allowed for backward compatibility (Cinder's NOTE). */
export const validateDetach = action("os-detach", {
  type: ["object", "null"],
  properties: { attachment_id: uuidAllowNull },
  additionalProperties: false,
});

export const validateExtend = action("os-extend", {
  type: "object",
  properties: { new_size: volumeSize },
  required: ["new_size"],
  additionalProperties: false,
});

/**
 * Cinder's schema types migration_policy as string or null but its enum lists only the two
 * strings, so jsonschema refuses an explicit null; absent means `never`.
 */
export const validateRetype = action("os-retype", {
  type: "object",
  properties: {
    new_type: { type: "string" },
    migration_policy: { type: ["string", "null"], enum: ["on-demand", "never"] },
  },
  required: ["new_type"],
  additionalProperties: false,
});

export const validateSetBootable = action("os-set_bootable", {
  type: "object",
  properties: { bootable: boolean },
  required: ["bootable"],
  additionalProperties: false,
});

export const validateReadonlyFlag = action("os-update_readonly_flag", {
  type: "object",
  properties: { readonly: boolean },
  required: ["readonly"],
  additionalProperties: false,
});
