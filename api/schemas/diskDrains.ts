/**
 * Schemas of the disk-drains resource (issue 16): POST /disk-drains (the whole body) and the
 * action of POST /disk-drains/{id}/action. Unknown keys are refused, naming them.
 */
import { compileSchema } from "../validation/validator";

/** Longest pvmove poll interval a drain may ask for, in seconds. */
export const MAX_INTERVAL_SECS = 600;

export const validateCreateDiskDrain = compileSchema({
  type: "object",
  properties: {
    disk_drain: {
      type: "object",
      properties: {
        backend: { type: "string", minLength: 3, maxLength: 255, pattern: "^[^@#\\s]+@[^@#\\s]+$" },
        pv: { type: "string", minLength: 6, maxLength: 128, pattern: "^/dev/[A-Za-z0-9][A-Za-z0-9._+:/-]*$" },
        remove_from_group: { type: "boolean" },
        interval: { type: "integer", minimum: 1, maximum: MAX_INTERVAL_SECS },
      },
      required: ["backend", "pv"],
      additionalProperties: false,
    },
  },
  required: ["disk_drain"],
  additionalProperties: false,
});

export const validateCancelDiskDrain = compileSchema({
  type: "object",
  properties: {
    "os-cancel": { type: "object", properties: {}, additionalProperties: false },
  },
  required: ["os-cancel"],
  additionalProperties: false,
});
