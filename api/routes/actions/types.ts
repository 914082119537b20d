import type { VolumeApi } from "../../../services/volumeApi/volumeApi";
import type { RequestContext } from "../../context";

/** What an action answers when it is not Cinder's usual 202 with an empty body. */
export interface ActionResponse {
  status: number;
  body?: unknown;
}

/** One volume action: validates `body` (the whole `{"<action>": …}`), then calls the volume API. */
export type Action = (
  c: RequestContext,
  id: string,
  body: Record<string, unknown>,
) => Promise<ActionResponse | void>;

export type ActionTable = (volumes: VolumeApi) => Record<string, Action>;

/** The validated value of the single action key (`{}` when the action allows null or anything). */
export function params(body: Record<string, unknown>, name: string): Record<string, unknown> {
  const v = body[name];
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function optionalString(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}
