/**
 * GET /volumes[/detail] (cinder/api/v3/volumes.py `_get_volumes`): who sees which volumes, the
 * filters each caller may use per microversion, sort and paging.
 */
import { InvalidInput } from "../../common/errors";
import { listVolumes, type VolumeRow } from "../../db/volumes";
import { BadRequest } from "./badRequest";
import type { Caller } from "./caller";
import { boolParam, findVolume, type VolumeApiOptions } from "./lookup";
import { cutPage, type Paging, type PagingParams, parsePaging } from "./paging";

export interface ListVolumesRequest {
  /** The raw `all_tenants` query value; only admins may use it. */
  allTenants?: string;
  name?: string;
  status?: string;
}

/** GET /volumes[/detail] with Cinder's filters and paging: every query parameter, raw. */
export interface ListVolumesQuery extends PagingParams {
  query: Record<string, string>;
  /** The request's microversion allows the generalized filters (3.33+). */
  resourceFilters: boolean;
}

/** Sort keys of the volume list (Cinder's `name` is display_name). */
const VOLUME_SORT_COLUMNS: Readonly<Record<string, string>> = Object.fromEntries(
  [
    "id",
    "name",
    "status",
    "size",
    "created_at",
    "updated_at",
    "availability_zone",
    "bootable",
    "project_id",
    "host",
    "volume_type_id",
    "user_id",
  ].map((k) => [k, k]),
);

/** Filters members may use before 3.33 (Cinder's _get_volume_filter_options) and from 3.33 (resource_filters.json). */
const MEMBER_FILTERS = ["name", "status", "metadata", "bootable", "availability_zone"];
const MEMBER_FILTERS_3_33 = [
  ...MEMBER_FILTERS,
  "migration_status",
  "group_id",
  "size",
  "created_at",
  "updated_at",
];
const ADMIN_FILTERS = [...MEMBER_FILTERS_3_33, "host", "project_id"];
/** Query parameters that are not filters. */
const NOT_FILTERS = [
  "all_tenants",
  "limit",
  "marker",
  "offset",
  "sort",
  "sort_key",
  "sort_dir",
  "with_count",
];

/** Python's literal dict of strings, as Cinder reads `metadata={'k': 'v'}` (ast.literal_eval). */
function pyDict(text: string): Record<string, string> {
  const json = text.trim().replace(/'((?:[^'\\]|\\.)*)'/g, (_m, inner: string) => JSON.stringify(inner));
  try {
    const v = JSON.parse(json) as unknown;
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
    }
  } catch {
    // fall through
  }
  throw new InvalidInput(`Invalid metadata filter ${text}`);
}

/**
 * Non-admins see their project's volumes without migration temp volumes; admins see their own
 * project's, or every project's with `all_tenants`. Unknown filters are ignored, as Cinder
 * drops filters a caller may not use.
 */
export async function listVolumesOf(
  o: VolumeApiOptions,
  caller: Caller,
  r: ListVolumesRequest,
): Promise<VolumeRow[]> {
  const allTenants = caller.isAdmin && boolParam("all_tenants", r.allTenants);
  return listVolumes(o.db, {
    projectId: allTenants ? undefined : caller.projectId,
    name: r.name,
    status: r.status,
    hideMigrationTargets: !caller.isAdmin,
  });
}

/**
 * Filters, sort, marker, offset and limit (cinder/api/v3/volumes.py `_get_volumes`): members may
 * only use the public filters (unknown ones are dropped before 3.33 and refused from it);
 * `count` is the number of matching volumes before paging (with_count, 3.45).
 */
export async function listVolumesPage(
  o: VolumeApiOptions,
  caller: Caller,
  r: ListVolumesQuery,
): Promise<{ rows: VolumeRow[]; count: number; paging: Paging }> {
  const paging = parsePaging(r, VOLUME_SORT_COLUMNS);
  const allowed = caller.isAdmin ? ADMIN_FILTERS : r.resourceFilters ? MEMBER_FILTERS_3_33 : MEMBER_FILTERS;
  const given = Object.keys(r.query).filter((k) => !NOT_FILTERS.includes(k));
  const invalid = given.filter((k) => !allowed.includes(k));
  if (invalid.length > 0 && r.resourceFilters && !caller.isAdmin) {
    throw new BadRequest(`Invalid filters ${invalid.join(", ")} are found in query options.`);
  }
  const f: Record<string, string> = Object.fromEntries(
    given.filter((k) => allowed.includes(k)).map((k) => [k, r.query[k]!]),
  );
  const allTenants = caller.isAdmin && boolParam("all_tenants", r.query["all_tenants"]);
  const rows = await listVolumes(o.db, {
    projectId: allTenants ? f["project_id"] : caller.projectId,
    name: f["name"],
    status: f["status"],
    metadata: f["metadata"] === undefined ? undefined : pyDict(f["metadata"]),
    bootable: f["bootable"] === undefined ? undefined : boolParam("bootable", f["bootable"]),
    availabilityZone: f["availability_zone"],
    size: f["size"] === undefined ? undefined : Number(f["size"]),
    host: f["host"],
    migrationStatus: f["migration_status"],
    groupId: f["group_id"],
    hideMigrationTargets: !caller.isAdmin,
    sort: paging.sort,
  });
  if (paging.marker !== undefined) {
    await findVolume(o.db, caller, paging.marker);
  }
  return { rows: cutPage(rows, paging), count: rows.length, paging };
}
