import { ErrorCodes, ServiceError } from "../../common/errors";

/**
 * A 400 whose message Cinder sends without a prefix (webob HTTPBadRequest explanations and
 * InvalidParameterValue, e.g. "Cannot reset-state to deleting"). It reuses the InvalidInput code;
 * services/common/errors.ts has no dedicated one.
 */
export class BadRequest extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_INVALID_INPUT;
  override readonly httpStatus = 400;
  override readonly safe = true;
}
