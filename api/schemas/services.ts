/**
 * Schemas of PUT os-services/{enable|disable|disable-log-reason} (cinder/api/schemas/services.py):
 * the service is named by `host` and `binary` (or the deprecated `service`); unknown keys are
 * refused. The reason of disable-log-reason is 1–255 characters, not all blank.
 */
import { compileSchema } from "../validation/validator";

const text = { type: "string", minLength: 1, maxLength: 255 } as const;
const naming = {
  host: text,
  binary: text,
  service: text,
  cluster: { type: ["string", "null"], maxLength: 255 },
} as const;

export const validateEnableDisable = compileSchema({
  type: "object",
  properties: naming,
  additionalProperties: false,
});

export const validateDisableLogReason = compileSchema({
  type: "object",
  properties: { ...naming, disabled_reason: { ...text, pattern: "\\S" } },
  required: ["disabled_reason"],
  additionalProperties: false,
});
