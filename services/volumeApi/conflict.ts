import { ErrorCodes, ServiceError } from "../../common/errors";

/**
 * Cinder's ConflictNovaUsingAttachment (409, bug #2004555): a user may not delete an attachment
 * that Nova may still be using. services/common/errors.ts has no conflict code; this reuses
 * InvalidVolume's.
 */
export class ConflictNovaUsingAttachment extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_INVALID_VOLUME;
  override readonly httpStatus = 409;
  override readonly safe = true;
  constructor(instanceId: string) {
    super(`Detach volume from instance ${instanceId} using the Compute API`);
  }
}
