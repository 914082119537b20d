/** Small helpers shared by the routes. */
import type { Request } from "express";

/** One query parameter as a string (the first, if repeated). */
export function query(req: Request, name: string): string | undefined {
  const v = (req.query as Record<string, unknown>)[name];
  const first = Array.isArray(v) ? (v[0] as unknown) : v;
  return typeof first === "string" ? first : undefined;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Cinder's `clean_name_and_description`: names and descriptions are stored stripped. */
export function cleanText(v: unknown): string | null {
  return typeof v === "string" ? v.trim() : null;
}

/** A validated metadata object (null → empty). */
export function metadataOf(v: unknown): Record<string, string> {
  return isObject(v) ? (v as Record<string, string>) : {};
}

/** A path parameter (express 5 types allow arrays for wildcard segments; ours are single). */
export function param(req: Request, name: string): string {
  const v = req.params[name];
  return Array.isArray(v) ? v.join("/") : (v ?? "");
}

/** Every query parameter as a string (the first of a repeated one). */
export function queryParams(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(req.query as Record<string, unknown>)) {
    const v = query(req, name);
    if (v !== undefined) {
      out[name] = v;
    }
  }
  return out;
}
