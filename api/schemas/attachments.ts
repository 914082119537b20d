/** Schemas of /attachments (cinder/api/schemas/attachments.py). */
import type { ApiVersion } from "../microversion";
import { compileSchema } from "../validation/validator";
import { uuid } from "./parameterTypes";

function createSchema(withMode: boolean): Record<string, unknown> {
  return {
    type: "object",
    properties: {
      attachment: {
        type: "object",
        properties: {
          instance_uuid: uuid,
          connector: { type: ["object", "null"] },
          volume_uuid: uuid,
          ...(withMode ? { mode: { type: "string", enum: ["rw", "ro"] } } : {}),
        },
        required: ["volume_uuid"],
        additionalProperties: false,
      },
    },
    required: ["attachment"],
    additionalProperties: false,
  };
}

const create = compileSchema(createSchema(false));
/** 3.54 (ATTACHMENT_CREATE_MODE_ARG) adds `mode`. */
const createV354 = compileSchema(createSchema(true));

export function validateCreateAttachment(body: unknown, v: ApiVersion): void {
  (v.matches("3.54") ? createV354 : create)(body);
}

export const validateUpdateAttachment = compileSchema({
  type: "object",
  properties: {
    attachment: {
      type: "object",
      properties: { connector: { type: "object", minProperties: 1 } },
      required: ["connector"],
      additionalProperties: false,
    },
  },
  required: ["attachment"],
  additionalProperties: false,
});

export const validateCompleteAttachment = compileSchema({
  type: "object",
  properties: { "os-complete": {} },
  required: ["os-complete"],
  additionalProperties: false,
});
