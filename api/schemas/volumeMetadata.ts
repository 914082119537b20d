/** Schemas of /volumes/{id}/metadata (cinder/api/schemas/volume_metadata.py). */
import { compileSchema } from "../validation/validator";
import { extraSpecs } from "./parameterTypes";

/** POST and PUT /metadata: `{"metadata": {...}}`. */
export const validateMetadata = compileSchema({
  type: "object",
  properties: { metadata: extraSpecs },
  required: ["metadata"],
  additionalProperties: false,
});

/** PUT /metadata/{key}: `{"meta": {"<key>": "<value>"}}`, exactly one item. */
export const validateMetadataItem = compileSchema({
  type: "object",
  properties: { meta: { ...extraSpecs, minProperties: 1, maxProperties: 1 } },
  required: ["meta"],
  additionalProperties: false,
});
