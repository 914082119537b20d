/**
 * Schemas of the migrations resource's actions (POST /migrations/{id}/action), each the whole
 * request body as for Cinder's volume actions.
 */
import { compileSchema } from "../validation/validator";

/** The lowest limit an administrator may set: below 1 MiB/s a copy of any real volume never ends. */
export const MIN_BPS_LIMIT = 1024 * 1024;

export const validateCancel = compileSchema({
  type: "object",
  properties: {
    cancel: { type: "object", properties: {}, additionalProperties: false },
  },
  required: ["cancel"],
  additionalProperties: false,
});

export const validateSetBandwidthLimit = compileSchema({
  type: "object",
  properties: {
    set_bandwidth_limit: {
      type: "object",
      properties: {
        // null: back to the backend's volume_copy_bps_limit.
        bps: { type: ["integer", "null"], minimum: MIN_BPS_LIMIT, maximum: Number.MAX_SAFE_INTEGER },
      },
      required: ["bps"],
      additionalProperties: false,
    },
  },
  required: ["set_bandwidth_limit"],
  additionalProperties: false,
});
