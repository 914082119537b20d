/**
 * Schemas of the evacuations resource: POST /evacuations (the whole body) and the actions of
 * POST /evacuations/{id}/action, each the whole request body as for Cinder's volume actions.
 * Unknown keys are refused (additionalProperties false), naming them.
 */
import { EVACUATION_ORDERS } from "../../common/states";
import { compileSchema } from "../validation/validator";

/** Largest cap of concurrent migrations an evacuation may ask for. */
export const MAX_PARALLEL = 1000;
/** Largest retry count of a failed volume. */
export const MAX_RETRIES = 10;
/** bandwidth_limit is in MiB/s; this bound keeps bytes/s within a JavaScript safe integer. */
export const MAX_BANDWIDTH_MIB = 1024 * 1024 * 1024;

const name = { type: "string", minLength: 1, maxLength: 255 } as const;
const cap = { type: "integer", minimum: 1, maximum: MAX_PARALLEL } as const;

const LIMITS = {
  max_parallel: cap,
  max_parallel_per_host: cap,
  max_parallel_per_pool: cap,
  // MiB/s of each migration's copy; null: the backends' own volume_copy_bps_limit.
  bandwidth_limit: { type: ["integer", "null"], minimum: 1, maximum: MAX_BANDWIDTH_MIB },
  max_retries: { type: "integer", minimum: 0, maximum: MAX_RETRIES },
} as const;

export const validateCreateEvacuation = compileSchema({
  type: "object",
  properties: {
    evacuation: {
      type: "object",
      properties: {
        source: name,
        destination: {
          oneOf: [{ type: "null" }, name, { type: "array", minItems: 1, maxItems: 100, items: name }],
        },
        dry_run: { type: "boolean" },
        ...LIMITS,
        order: { type: "string", enum: [...EVACUATION_ORDERS] },
        include_in_use: { type: "boolean" },
        disable_source: { type: "boolean" },
      },
      required: ["source"],
      additionalProperties: false,
    },
  },
  required: ["evacuation"],
  additionalProperties: false,
});

function emptyAction(action: string) {
  return compileSchema({
    type: "object",
    properties: {
      [action]: { type: "object", properties: {}, additionalProperties: false },
    },
    required: [action],
    additionalProperties: false,
  });
}

export const validatePause = emptyAction("os-pause");
export const validateResume = emptyAction("os-resume");
export const validateCancel = emptyAction("os-cancel");

export const validateSetLimits = compileSchema({
  type: "object",
  properties: {
    "os-set_limits": {
      type: "object",
      properties: LIMITS,
      minProperties: 1,
      additionalProperties: false,
    },
  },
  required: ["os-set_limits"],
  additionalProperties: false,
});
