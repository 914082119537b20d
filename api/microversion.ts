/**
 * Microversion negotiation (cinder/api/openstack/wsgi.py `set_api_version_request`,
 * cinder/api/openstack/api_version_request.py). The header is `OpenStack-API-Version: volume 3.N`
 * or `volume latest`; without it the request runs at 3.0.
 */
import { ApiVersionNotSupported, InvalidApiVersionString } from "../common/errors";

export const API_VERSION_HEADER = "OpenStack-API-Version";
export const VOLUME_SERVICE = "volume";

export class ApiVersion {
  constructor(
    readonly major: number,
    readonly minor: number,
  ) {}

  static parse(text: string): ApiVersion {
    const m = /^([1-9]\d*)\.([1-9]\d*|0)$/.exec(text);
    if (!m) {
      throw new InvalidApiVersionString(text);
    }
    return new ApiVersion(Number(m[1]), Number(m[2]));
  }

  compare(other: ApiVersion): number {
    return this.major - other.major || this.minor - other.minor;
  }

  /** Cinder's `matches(min, max)`: min ≤ this (≤ max when given). */
  matches(min: string | ApiVersion, max?: string | ApiVersion): boolean {
    const lo = typeof min === "string" ? ApiVersion.parse(min) : min;
    const hi = max === undefined ? undefined : typeof max === "string" ? ApiVersion.parse(max) : max;
    return this.compare(lo) >= 0 && (hi === undefined || this.compare(hi) <= 0);
  }

  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

export const MIN_API_VERSION = new ApiVersion(3, 0);
export const MAX_API_VERSION = new ApiVersion(3, 71);

/** What the client asked for: the version, or the version string it sent (for the 406 header). */
export type VersionRequest = { ok: true; version: ApiVersion } | { ok: false; error: Error; echo?: string };

/**
 * Read the header. Several services may be listed comma-separated; the first entry naming
 * `volume` wins. A header that names no volume version counts as absent.
 */
export function negotiate(header: string | undefined): VersionRequest {
  const entry = header
    ?.split(",")
    .map((s) => s.trim().split(/\s+/))
    .find((parts) => parts[0]?.toLowerCase() === VOLUME_SERVICE && parts[1] !== undefined);
  if (!entry) {
    return { ok: true, version: MIN_API_VERSION };
  }
  const text = entry[1]!;
  if (text === "latest") {
    return { ok: true, version: MAX_API_VERSION };
  }
  let version: ApiVersion;
  try {
    version = ApiVersion.parse(text);
  } catch (err) {
    return { ok: false, error: err as Error };
  }
  if (!version.matches(MIN_API_VERSION, MAX_API_VERSION)) {
    return {
      ok: false,
      echo: version.toString(),
      error: new ApiVersionNotSupported(
        `Version ${version.toString()} is not supported by the API. Minimum is ${MIN_API_VERSION.toString()} and maximum is ${MAX_API_VERSION.toString()}.`,
      ),
    };
  }
  return { ok: true, version };
}
