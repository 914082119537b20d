/**
 * One error hierarchy for the whole service. Every error carries a stable code, the HTTP status the
 * API maps it to, and whether its message is safe to show a caller (Cinder's `safe` flag): unsafe
 * messages are replaced by a generic text in the fault body.
 */
export const ErrorCodes = {
  VMS_ERR_INVALID_INPUT: "VMS_ERR_INVALID_INPUT",
  VMS_ERR_INVALID_VOLUME: "VMS_ERR_INVALID_VOLUME",
  VMS_ERR_INVALID_HOST: "VMS_ERR_INVALID_HOST",
  VMS_ERR_INVALID_SNAPSHOT: "VMS_ERR_INVALID_SNAPSHOT",
  VMS_ERR_INVALID_VOLUME_TYPE: "VMS_ERR_INVALID_VOLUME_TYPE",
  VMS_ERR_VALIDATION: "VMS_ERR_VALIDATION",
  VMS_ERR_MALFORMED_BODY: "VMS_ERR_MALFORMED_BODY",
  VMS_ERR_NO_SUCH_ACTION: "VMS_ERR_NO_SUCH_ACTION",
  VMS_ERR_BAD_API_VERSION: "VMS_ERR_BAD_API_VERSION",
  VMS_ERR_API_VERSION_NOT_SUPPORTED: "VMS_ERR_API_VERSION_NOT_SUPPORTED",
  VMS_ERR_NOT_AUTHENTICATED: "VMS_ERR_NOT_AUTHENTICATED",
  VMS_ERR_IDENTITY_UNAVAILABLE: "VMS_ERR_IDENTITY_UNAVAILABLE",
  VMS_ERR_POLICY: "VMS_ERR_POLICY",
  VMS_ERR_NOT_FOUND: "VMS_ERR_NOT_FOUND",
  VMS_ERR_VOLUME_NOT_FOUND: "VMS_ERR_VOLUME_NOT_FOUND",
  VMS_ERR_SNAPSHOT_NOT_FOUND: "VMS_ERR_SNAPSHOT_NOT_FOUND",
  VMS_ERR_VOLUME_TYPE_NOT_FOUND: "VMS_ERR_VOLUME_TYPE_NOT_FOUND",
  VMS_ERR_VOLUME_TYPE_EXISTS: "VMS_ERR_VOLUME_TYPE_EXISTS",
  VMS_ERR_VOLUME_TYPE_IN_USE: "VMS_ERR_VOLUME_TYPE_IN_USE",
  VMS_ERR_CONFLICT: "VMS_ERR_CONFLICT",
  VMS_ERR_OVER_QUOTA: "VMS_ERR_OVER_QUOTA",
  VMS_ERR_NO_VALID_BACKEND: "VMS_ERR_NO_VALID_BACKEND",
  VMS_ERR_MIGRATION_FAILED: "VMS_ERR_MIGRATION_FAILED",
  VMS_ERR_MIGRATION_CANCELLED: "VMS_ERR_MIGRATION_CANCELLED",
  VMS_ERR_DRIVER: "VMS_ERR_DRIVER",
  VMS_ERR_COMMAND: "VMS_ERR_COMMAND",
  VMS_ERR_RPC_TIMEOUT: "VMS_ERR_RPC_TIMEOUT",
  VMS_ERR_BUS_UNAVAILABLE: "VMS_ERR_BUS_UNAVAILABLE",
  VMS_ERR_COMPUTE: "VMS_ERR_COMPUTE",
  VMS_ERR_RPC_REMOTE: "VMS_ERR_RPC_REMOTE",
  VMS_ERR_CONFIG: "VMS_ERR_CONFIG",
  VMS_ERR_INTERNAL: "VMS_ERR_INTERNAL",
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export abstract class ServiceError extends Error {
  abstract readonly code: ErrorCode;
  readonly httpStatus: number = 500;
  readonly safe: boolean = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

abstract class SafeError extends ServiceError {
  override readonly safe = true;
}

/** Cinder's `InvalidInput`: "Invalid input received: <reason>". */
export class InvalidInput extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_INVALID_INPUT;
  override readonly httpStatus = 400;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Invalid input received: ${reason}`, options);
  }
}

/** Cinder's `InvalidVolume`: "Invalid volume: <reason>". */
export class InvalidVolume extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_INVALID_VOLUME;
  override readonly httpStatus = 400;
  constructor(reason: string) {
    super(`Invalid volume: ${reason}`);
  }
}

/** Cinder's `InvalidHost`: "Invalid host: <reason>". */
export class InvalidHost extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_INVALID_HOST;
  override readonly httpStatus = 400;
  constructor(reason: string) {
    super(`Invalid host: ${reason}`);
  }
}

export class InvalidSnapshot extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_INVALID_SNAPSHOT;
  override readonly httpStatus = 400;
  constructor(reason: string) {
    super(`Invalid snapshot: ${reason}`);
  }
}

export class InvalidVolumeType extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_INVALID_VOLUME_TYPE;
  override readonly httpStatus = 400;
  constructor(reason: string) {
    super(`Invalid volume type: ${reason}`);
  }
}

/** A request body that failed its JSON schema; the message is already in Cinder's wording. */
export class ValidationError extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_VALIDATION;
  override readonly httpStatus = 400;
}

export class MalformedRequestBody extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_MALFORMED_BODY;
  override readonly httpStatus = 400;
  /** `detail` says what is wrong beyond "not JSON" (for example a body nested too deep). */
  constructor(detail?: string) {
    super(detail === undefined ? "Malformed request body" : `Malformed request body: ${detail}`);
  }
}

export class NoSuchAction extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_NO_SUCH_ACTION;
  override readonly httpStatus = 400;
  constructor(action: string) {
    super(
      `There is no such action: ${action}. Verify the request body and Content-Type header and try again.`,
    );
  }
}

export class InvalidApiVersionString extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_BAD_API_VERSION;
  override readonly httpStatus = 400;
  constructor(version: string) {
    super(`API Version String ${version} is of invalid format. Must be of format MajorNum.MinorNum.`);
  }
}

export class ApiVersionNotSupported extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_API_VERSION_NOT_SUPPORTED;
  override readonly httpStatus = 406;
}

export class NotAuthenticated extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_NOT_AUTHENTICATED;
  override readonly httpStatus = 401;
  constructor() {
    super("The request you have made requires authentication.");
  }
}

/** Keystone could not be asked whether a token is valid (unreachable, timeout, 5xx): 503, as keystonemiddleware. */
export class IdentityUnavailable extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_IDENTITY_UNAVAILABLE;
  override readonly httpStatus = 503;
  constructor(options?: { cause?: unknown }) {
    super("The server is currently unavailable. Please try again at a later time.", options);
  }
}

export class PolicyNotAuthorized extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_POLICY;
  override readonly httpStatus = 403;
  constructor(readonly rule: string) {
    super(`Policy doesn't allow ${rule} to be performed.`);
  }
}

export class NotFound extends SafeError {
  readonly code: ErrorCode = ErrorCodes.VMS_ERR_NOT_FOUND;
  override readonly httpStatus = 404;
}

export class VolumeNotFound extends NotFound {
  override readonly code = ErrorCodes.VMS_ERR_VOLUME_NOT_FOUND;
  constructor(id: string) {
    super(`Volume ${id} could not be found.`);
  }
}

export class SnapshotNotFound extends NotFound {
  override readonly code = ErrorCodes.VMS_ERR_SNAPSHOT_NOT_FOUND;
  constructor(id: string) {
    super(`Snapshot ${id} could not be found.`);
  }
}

export class VolumeTypeNotFound extends NotFound {
  override readonly code = ErrorCodes.VMS_ERR_VOLUME_TYPE_NOT_FOUND;
  constructor(id: string) {
    super(`Volume type ${id} could not be found.`);
  }
}

export class VolumeTypeExists extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_VOLUME_TYPE_EXISTS;
  override readonly httpStatus = 409;
  constructor(name: string) {
    super(`Volume Type ${name} already exists.`);
  }
}

export class VolumeTypeInUse extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_VOLUME_TYPE_IN_USE;
  override readonly httpStatus = 400;
  constructor(id: string) {
    super(`Volume Type ${id} deletion is not allowed with volumes present with the type.`);
  }
}

/** A 409 with Cinder's message (webob HTTPConflict: an access, QoS spec or name that exists). */
export class Conflict extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_CONFLICT;
  override readonly httpStatus = 409;
}

/**
 * Cinder's QuotaError family (413 `overLimit` with `Retry-After: 0`): the message names the
 * resource, e.g. "Maximum number of volumes allowed (10) exceeded for quota 'volumes'.".
 */
export class QuotaExceeded extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_OVER_QUOTA;
  override readonly httpStatus = 413;
  readonly retryAfter = "0";
}

/** Raised by the scheduler; never reaches HTTP (the migration records it instead). */
export class NoValidBackend extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_NO_VALID_BACKEND;
  override readonly safe = true;
  constructor(reason: string) {
    super(`No valid backend was found. ${reason}`);
  }
}

export class VolumeMigrationFailed extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_MIGRATION_FAILED;
  override readonly safe = true;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Volume migration failed: ${reason}`, options);
  }
}

/** The copy (or migration) stopped because its caller asked it to: a cancel, not a failure. */
export class MigrationCancelled extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_MIGRATION_CANCELLED;
  override readonly safe = true;
  constructor(reason = "cancelled", options?: { cause?: unknown }) {
    super(`Volume migration cancelled: ${reason}`, options);
  }
}

export class DriverError extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_DRIVER;
}

export class RpcTimeout extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_RPC_TIMEOUT;
  constructor(topic: string, method: string, timeoutMs: number) {
    super(`Timed out after ${timeoutMs} ms waiting for a reply to ${method} on ${topic}`);
  }
}

/**
 * The message bus has no broker connection (lost, and not back within the bounded wait, or lost
 * while a call's reply was on its way): a transient condition, so 503 and "try again later", never
 * a 500. The message names no broker address; the cause (amqplib's error) is logged.
 */
export class BusUnavailable extends SafeError {
  readonly code = ErrorCodes.VMS_ERR_BUS_UNAVAILABLE;
  override readonly httpStatus = 503;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`The message bus is unavailable: ${reason}. Please try again later.`, options);
  }
}

/** An error raised by the handler on the far side of an RPC call, carried back by code and message. */
export class RpcRemoteError extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_RPC_REMOTE;
  constructor(
    readonly remoteCode: string,
    message: string,
  ) {
    super(message);
  }
}

export class ConfigError extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_CONFIG;
}

export class InternalError extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_INTERNAL;
}

/** Normalise anything caught into an Error (thrown strings, rejected non-errors). */
export function coerceError(value: unknown): Error {
  if (value instanceof Error) {
    return value;
  }
  return new Error(typeof value === "string" ? value : JSON.stringify(value));
}
