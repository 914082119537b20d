import { MigrationCancelled } from "../../common/errors";

/**
 * What an administrator's cancel (POST /migrations/{id}/action `cancel`) stops a migration with:
 * the reason its worker aborts the migration's own signal with, and the row's `error` text
 * ("Volume migration cancelled: by an administrator at <ISO time>").
 */
export function cancelledByAdmin(requestedAt: Date): MigrationCancelled {
  return new MigrationCancelled(`by an administrator at ${requestedAt.toISOString()}`);
}

/**
 * The error a step stops with once `signal` is aborted: the abort's reason when it is an error
 * (an administrator's cancel, the worker stopping), else what the step itself threw.
 */
export function abortedError(signal: AbortSignal, thrown: unknown): unknown {
  return signal.aborted && signal.reason instanceof Error ? signal.reason : thrown;
}
