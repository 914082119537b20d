/** Schema of POST /os-volume-manage (cinder/api/schemas/volume_manage.py). */
import { compileSchema } from "../validation/validator";
import { boolean, description, metadataAllowsNull, nameAllowZeroMinLength } from "./parameterTypes";

export const validateManageVolume = compileSchema({
  type: "object",
  properties: {
    volume: {
      type: "object",
      properties: {
        description,
        availability_zone: nameAllowZeroMinLength,
        bootable: boolean,
        volume_type: nameAllowZeroMinLength,
        name: nameAllowZeroMinLength,
        host: { type: ["string", "null"], minLength: 1, maxLength: 255 },
        ref: { type: ["object", "string"] },
        metadata: metadataAllowsNull,
      },
      required: ["ref"],
      additionalProperties: false,
    },
  },
  required: ["volume"],
  additionalProperties: false,
});
