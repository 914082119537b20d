/**
 * Cinder's list paging (cinder/api/common.py get_pagination_params, get_sort_params,
 * cinder/db/api.py process_sort_params): limit, offset, marker and sort keys, with created_at
 * and id appended as tie-breakers so every page boundary is exact. Lists here are small (one
 * deployment's volumes), so the page is cut from the sorted rows: the database orders, the marker
 * is found by id in that order.
 */
import { InvalidInput } from "../../common/errors";
import { BadRequest } from "./badRequest";

export interface SortKey {
  key: string;
  dir: "asc" | "desc";
}

export interface Paging {
  limit?: number;
  offset: number;
  marker?: string;
  sort: SortKey[];
}

/** The query parameters that page a list. */
export interface PagingParams {
  limit?: string;
  offset?: string;
  marker?: string;
  sort?: string;
  sort_key?: string;
  sort_dir?: string;
}

/** Cinder's osapi_max_limit. */
export const MAX_LIMIT = 1000;

function nonNegative(name: string, v: string | undefined): number | undefined {
  if (v === undefined) {
    return undefined;
  }
  if (!/^-?\d+$/.test(v.trim())) {
    throw new BadRequest(`${name} param must be an integer`);
  }
  const n = Number(v);
  if (n < 0) {
    throw new BadRequest(`${name} param must be positive`);
  }
  return n;
}

function direction(d: string | undefined): "asc" | "desc" {
  const dir = (d ?? "desc").trim().toLowerCase();
  if (dir !== "asc" && dir !== "desc") {
    throw new InvalidInput("Invalid sort dirs passed");
  }
  return dir;
}

/**
 * `columns` maps the sort keys a caller may use to columns (Cinder's `name` is display_name);
 * anything else is "Invalid sort key".
 */
export function parsePaging(p: PagingParams, columns: Readonly<Record<string, string>>): Paging {
  const limit = nonNegative("limit", p.limit);
  const offset = nonNegative("offset", p.offset) ?? 0;
  if (p.sort !== undefined && (p.sort_key !== undefined || p.sort_dir !== undefined)) {
    throw new BadRequest(
      "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.",
    );
  }
  let sort: SortKey[];
  if (p.sort !== undefined) {
    sort = p.sort
      .split(",")
      .filter((s) => s.trim() !== "")
      .map((s) => {
        const [key, dir] = s.split(":");
        return { key: key!.trim(), dir: direction(dir) };
      });
  } else {
    const keys = (p.sort_key ?? "created_at").split(",").map((k) => k.trim());
    const dirs = (p.sort_dir ?? "desc").split(",").map((d) => direction(d));
    sort = keys.map((key, i) => ({ key, dir: dirs[i] ?? dirs[0] ?? "desc" }));
  }
  const resolved = sort.map((s) => {
    const column = columns[s.key];
    if (column === undefined) {
      throw new InvalidInput("Invalid sort key");
    }
    return { key: column, dir: s.dir };
  });
  // process_sort_params: created_at and id follow, in the first key's direction.
  const first = resolved[0]?.dir ?? "desc";
  for (const key of ["created_at", "id"]) {
    if (!resolved.some((s) => s.key === key)) {
      resolved.push({ key, dir: first });
    }
  }
  return {
    limit: limit === undefined ? undefined : Math.min(limit, MAX_LIMIT),
    offset,
    marker: p.marker,
    sort: resolved,
  };
}

/**
 * The page after the marker (its position in the sorted rows), skipping `offset`, at most `limit`
 * rows. A marker outside the rows yields nothing after it.
 */
export function cutPage<T extends { id: string }>(rows: T[], paging: Paging): T[] {
  let start = 0;
  if (paging.marker !== undefined) {
    const i = rows.findIndex((r) => r.id === paging.marker);
    start = i < 0 ? rows.length : i + 1;
  }
  start += paging.offset;
  return rows.slice(start, paging.limit === undefined ? undefined : start + paging.limit);
}
