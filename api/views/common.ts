/** Formatting shared by the views: Cinder's timestamps and resource links. */
import type { RequestContext } from "../context";

/**
 * Cinder serialises datetimes with `%Y-%m-%dT%H:%M:%S.%f` in UTC and no zone suffix
 * (e.g. `2026-11-21T20:04:39.350000`); JS dates carry milliseconds, so the last three digits are 0.
 */
export function cinderTime(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) {
    return null;
  }
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) {
    return typeof value === "string" ? value : null;
  }
  return `${d.toISOString().slice(0, 23)}000`;
}

export interface Link {
  rel: string;
  href: string;
}

/** Cinder's self and bookmark links; the project appears only when the request URL had it. */
export function resourceLinks(c: RequestContext, collection: string, id: string): Link[] {
  const project = c.urlProjectId ? `/${encodeURIComponent(c.urlProjectId)}` : "";
  return [
    { rel: "self", href: `${c.baseUrl}/v3${project}/${collection}/${id}` },
    { rel: "bookmark", href: `${c.baseUrl}${project}/${collection}/${id}` },
  ];
}

/**
 * Cinder's next-page link (`_get_next_link`): the collection under the project with the request's
 * query, `marker` set to the page's last id.
 */
export function nextLink(
  c: RequestContext,
  collection: string,
  query: Readonly<Record<string, string>>,
  lastId: string,
): string {
  const project = encodeURIComponent(c.urlProjectId ?? c.projectId);
  const params = new URLSearchParams({ ...query, marker: lastId });
  return `${c.baseUrl}/v3/${project}/${collection}?${params.toString()}`;
}
