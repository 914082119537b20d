/** Schemas of os-quota-sets and os-quota-class-sets (cinder/api/schemas/quotas.py, quota_classes.py). */
import { compileSchema } from "../validation/validator";
import { DB_MAX_INT } from "./parameterTypes";

/** The resource keys and integer values are checked by the quota API (Cinder's `quota_set` format). */
export const validateUpdateQuotaSet = compileSchema({
  type: "object",
  properties: { quota_set: { type: "object", minProperties: 1 } },
  required: ["quota_set"],
  additionalProperties: false,
});

/** parameter_types.quota_class_set (its `quota_class_set` format, the key check, is the quota API's). */
export const validateUpdateQuotaClassSet = compileSchema({
  type: "object",
  properties: {
    quota_class_set: {
      type: "object",
      patternProperties: {
        "^[a-zA-Z0-9-_:. ]{1,300}$": {
          type: ["integer", "string"],
          pattern: "^[0-9]*$",
          numericMinimum: -1,
          minLength: 1,
          numericMaximum: DB_MAX_INT,
        },
      },
      additionalProperties: false,
    },
  },
  required: ["quota_class_set"],
  additionalProperties: false,
});
