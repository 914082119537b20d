/**
 * Cinder's custom jsonschema formats (cinder/api/validation/validators.py). Schemas name them with
 * the `cinderFormat` keyword, placed where Cinder's schema has `format`, so the error ordering
 * stays the same. A check with `message` is one whose Cinder checker raises its own exception:
 * that message reaches the client verbatim instead of the generic "Invalid input for field…" form.
 */
import { pyRepr } from "./pyrepr";

export interface FormatCheck {
  valid(value: unknown): boolean;
  /** The exact message Cinder's raising checker produces for an invalid value. */
  message?(value: unknown): string;
}

/** cinder.objects.fields.VolumeStatus.ALL (our extra `deleted` is not settable through the API). */
export const CINDER_VOLUME_STATUSES = [
  "creating",
  "available",
  "deleting",
  "error",
  "error_deleting",
  "error_managing",
  "managing",
  "attaching",
  "in-use",
  "detaching",
  "maintenance",
  "restoring-backup",
  "error_restoring",
  "reserved",
  "awaiting-transfer",
  "backing-up",
  "error_backing-up",
  "error_extending",
  "downloading",
  "uploading",
  "retyping",
  "extending",
] as const;
const ATTACH_STATUSES = ["attached", "detached"];
/** cinder.objects.fields.VolumeMigrationStatus.ALL; `none` means NULL, `deleting`/`target:` are internal. */
const MIGRATION_STATUSES = ["migrating", "error", "success", "completing", "none", "starting"];

/** Python prints a tuple with parentheses. */
function pyTuple(values: readonly string[]): string {
  return `(${values.map(pyRepr).join(", ")})`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** oslo uuidutils.is_uuid_like: hyphens optional, any case. */
function isUuidLike(v: unknown): boolean {
  return typeof v === "string" && /^[0-9a-f]{32}$/i.test(v.replace(/-/g, "")) && /^[0-9a-f-]+$/i.test(v);
}

/** Python len(): code points, not UTF-16 units. */
function pyLen(s: string): number {
  return [...s].length;
}

function stringLength(field: string, max: number): FormatCheck {
  const tooLong = (v: unknown): boolean => typeof v === "string" && pyLen(v.trim()) > max;
  return {
    valid: (v) => !tooLong(v),
    message: (v) =>
      `Invalid input received: ${field} has ${pyLen(String(v).trim())} characters, more than ${max}.`,
  };
}

function statusIn(label: string, valid: readonly string[], render: string): FormatCheck {
  const bad = (v: unknown): boolean => typeof v === "string" && v !== "" && !valid.includes(v.toLowerCase());
  return {
    valid: (v) => !bad(v),
    message: (v) => `${label}: ${String(v)} is invalid, valid statuses are: ${render}.`,
  };
}

export const FORMATS: Readonly<Record<string, FormatCheck>> = {
  uuid: { valid: isUuidLike },
  // Raises InvalidName; the validator then reports the cause's message alone.
  name: {
    valid: (v) => typeof v !== "string" || v.trim() !== "",
    message: (v) => `An invalid 'name' value was provided. The 'name' can not be ${v ? "empty" : "None"}.`,
  },
  name_non_mandatory_remove_white_spaces: stringLength("name", 255),
  description_non_mandatory_remove_white_spaces: stringLength("description", 255),
  // oslo's strutils.is_int_like: the value's str() is an int's ("1.0", " 1" and "1e3" are not).
  key_size: {
    valid: (v) =>
      v === null || v === undefined || (typeof v !== "boolean" && /^-?(0|[1-9][0-9]*)$/.test(String(v))),
    message: () => "Invalid input received: key_size must be an integer.",
  },
  validate_volume_reset_body: {
    valid: (v) =>
      !isObject(v) || Boolean(v["status"]) || Boolean(v["attach_status"]) || Boolean(v["migration_status"]),
    message: () => "Must specify 'status', 'attach_status' or 'migration_status' for update.",
  },
  volume_status: statusIn("Volume status", CINDER_VOLUME_STATUSES, pyTuple(CINDER_VOLUME_STATUSES)),
  volume_attach_status: statusIn("Volume attach status", ATTACH_STATUSES, pyRepr(ATTACH_STATUSES)),
  volume_migration_status: statusIn(
    "Volume migration status",
    MIGRATION_STATUSES,
    pyTuple(MIGRATION_STATUSES),
  ),
};
