/**
 * The evacuations resource's contract with the API layer: its policy names, its errors, its
 * defaults, the requests it takes and what it returns (evacuationApi.ts does the work).
 */
import { ErrorCodes, NotFound, PolicyNotAuthorized, ServiceError } from "../../common/errors";
import type { EvacuationOrder, EvacuationStatus } from "../../common/states";
import type { EvacuationRow } from "../../db/evacuations";
import type { Caller } from "../volumeApi/caller";
import type { EvacuationSummary } from "./progress";

/** Policy names of the evacuations resource, all admin-only (`rule:admin_api`). */
export const EvacuationPolicy = {
  CREATE: "volume_extension:evacuations:create",
  GET_ALL: "volume_extension:evacuations:get_all",
  GET: "volume_extension:evacuations:get",
  PAUSE: "volume_extension:evacuations:pause",
  RESUME: "volume_extension:evacuations:resume",
  CANCEL: "volume_extension:evacuations:cancel",
  SET_LIMITS: "volume_extension:evacuations:set_limits",
  DELETE: "volume_extension:evacuations:delete",
} as const;
type EvacuationPolicy = (typeof EvacuationPolicy)[keyof typeof EvacuationPolicy];

/** Same rule as caller.ts `authorize`: only admins. */
export function authorize(caller: Caller, rule: EvacuationPolicy): void {
  if (!caller.isAdmin) {
    throw new PolicyNotAuthorized(rule);
  }
}

export class EvacuationNotFound extends NotFound {
  constructor(id: string) {
    super(`Evacuation ${id} could not be found.`);
  }
}

/** 409 conflictingRequest: the evacuation's status does not allow the action (InvalidInput's code, as MigrationConflict). */
export class EvacuationConflict extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_INVALID_INPUT;
  override readonly httpStatus = 409;
  override readonly safe = true;
}

/** Defaults of a new evacuation (the example request; OpenStack Watcher's caps). */
export const EVACUATION_DEFAULTS = {
  max_parallel: 6,
  max_parallel_per_host: 2,
  max_parallel_per_pool: 2,
  order: "smallest_first" as EvacuationOrder,
  include_in_use: false,
  disable_source: true,
  bandwidth_limit: null as number | null,
  max_retries: 1,
};

/** A validated create request (api/schemas/evacuations.ts); absent keys take EVACUATION_DEFAULTS. */
export interface CreateEvacuationRequest {
  source: string;
  destination?: string | string[] | null;
  dry_run?: boolean;
  max_parallel?: number;
  max_parallel_per_host?: number;
  max_parallel_per_pool?: number;
  order?: EvacuationOrder;
  include_in_use?: boolean;
  disable_source?: boolean;
  bandwidth_limit?: number | null;
  max_retries?: number;
}

/** Caps os-set_limits may change (validated: at least one). */
export interface EvacuationLimits {
  max_parallel?: number;
  max_parallel_per_host?: number;
  max_parallel_per_pool?: number;
  bandwidth_limit?: number | null;
  max_retries?: number;
}

/** The evacuation's own fields; a dry run has no id, status or timestamps. */
export type EvacuationFields = Omit<
  EvacuationRow,
  "id" | "status" | "created_at" | "driver" | "lease_until" | "request_id" | "global_request_id"
> & {
  id: string | null;
  status: EvacuationStatus | null;
  created_at: Date | null;
};

/** What the view needs: the fields, and the items with progress, totals and report. */
export interface EvacuationInfo {
  evacuation: EvacuationFields;
  dryRun: boolean;
  summary: EvacuationSummary;
}
