/** Schema of POST /snapshots (cinder/api/schemas/snapshots.py). */
import { compileSchema } from "../validation/validator";
import {
  boolean,
  description,
  metadataAllowsNull,
  nameAllowZeroMinLength,
  uuidAllowNull,
} from "./parameterTypes";

export const validateCreateSnapshot = compileSchema({
  type: "object",
  properties: {
    snapshot: {
      type: "object",
      properties: {
        name: nameAllowZeroMinLength,
        display_name: nameAllowZeroMinLength,
        description,
        volume_id: uuidAllowNull,
        force: boolean,
        metadata: metadataAllowsNull,
      },
      required: ["volume_id"],
      additionalProperties: false,
    },
  },
  required: ["snapshot"],
  additionalProperties: false,
});
