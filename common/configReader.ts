/**
 * Reading cinder.conf-style sections: INI normalisation, `VMS__<SECTION>__<OPTION>` environment
 * overrides, oslo's `$option` interpolation, and a typed option reader whose every failure is a
 * ConfigError naming the section and key.
 */
import { ConfigError } from "./errors";

export type Sections = Record<string, Record<string, string>>;

/** Names that end up in host strings, queue names and file names: no separators, no shell specials. */
export function checkName(section: string, key: string, value: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(value)) {
    throw new ConfigError(
      `Invalid configuration: [${section}] ${key} = "${value}": use letters, digits, '.', '_' or '-'`,
    );
  }
}

export function normalise(parsed: Record<string, unknown>): Sections {
  const out: Sections = { DEFAULT: {} };
  for (const [key, value] of Object.entries(parsed)) {
    if (value !== null && typeof value === "object") {
      out[key] = { ...(out[key] ?? {}), ...stringify(value as Record<string, unknown>) };
    } else {
      // Keys before the first section header belong to [DEFAULT], as in oslo.config.
      out["DEFAULT"]![key] = String(value);
    }
  }
  return out;
}

function stringify(section: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(section).map(([k, v]) => [k, String(v).trim()]));
}

export function applyEnv(sections: Sections, env: NodeJS.ProcessEnv): Sections {
  for (const [name, value] of Object.entries(env)) {
    const m = /^VMS__([A-Za-z0-9_.-]+)__([A-Za-z0-9_]+)$/.exec(name);
    if (!m || value === undefined) {
      continue;
    }
    const section = m[1]!.toUpperCase() === "DEFAULT" ? "DEFAULT" : m[1]!.toLowerCase();
    sections[section] = { ...(sections[section] ?? {}), [m[2]!.toLowerCase()]: value };
  }
  return sections;
}

/** oslo.config substitutes `$name` / `${name}` with [DEFAULT] options. */
export function interpolate(sections: Sections): void {
  const defaults = sections["DEFAULT"] ?? {};
  for (const section of Object.values(sections)) {
    for (const [key, value] of Object.entries(section)) {
      section[key] = value.replace(
        /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
        (whole, name: string) => defaults[name] ?? whole,
      );
    }
  }
}

export class Reader {
  constructor(
    private readonly sections: Sections,
    private readonly section: string,
  ) {}

  private raw(key: string): string | undefined {
    const v = this.sections[this.section]?.[key];
    return v === undefined || v === "" ? undefined : v;
  }

  fail(key: string, value: string, expected: string): never {
    throw new ConfigError(`Invalid configuration: [${this.section}] ${key} = "${value}": ${expected}`);
  }

  str(key: string, def: string): string {
    return this.raw(key) ?? def;
  }

  required(key: string): string {
    const v = this.raw(key);
    if (v === undefined) {
      throw new ConfigError(`Invalid configuration: [${this.section}] ${key} is required`);
    }
    return v;
  }

  list(key: string, def: string[]): string[] {
    const v = this.raw(key);
    return v === undefined
      ? def
      : v
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "");
  }

  int(key: string, def: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw(key);
    if (v === undefined) {
      return def;
    }
    const n = /^-?[0-9]+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.fail(key, v, `must be an integer between ${min} and ${max}`);
    }
    return n;
  }

  float(key: string, def: number): number {
    const v = this.raw(key);
    if (v === undefined) {
      return def;
    }
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) {
      this.fail(key, v, "must be a positive number");
    }
    return n;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) {
      return def;
    }
    // oslo.config's boolean values.
    if (/^(true|yes|on|1)$/i.test(v)) {
      return true;
    }
    if (/^(false|no|off|0)$/i.test(v)) {
      return false;
    }
    return this.fail(key, v, "must be true or false");
  }

  oneOf<T extends string>(key: string, def: T, allowed: readonly T[]): T {
    const v = this.raw(key) ?? def;
    if (!(allowed as readonly string[]).includes(v)) {
      this.fail(key, v, `must be one of ${allowed.join(", ")}`);
    }
    return v as T;
  }

  url(key: string, def: string, protocols: string[]): string {
    const v = this.raw(key) ?? def;
    let protocol: string;
    try {
      protocol = new URL(v).protocol;
    } catch {
      return this.fail(key, v, "must be a URL");
    }
    if (!protocols.includes(protocol)) {
      this.fail(key, v, `must use one of the schemes ${protocols.join(" ")}`);
    }
    return v;
  }

  template(key: string, def: string): string {
    const v = this.raw(key) ?? def;
    if ((v.match(/%s/g) ?? []).length !== 1 || !/^[A-Za-z0-9._%-]+$/.test(v)) {
      this.fail(key, v, "must contain %s exactly once and only letters, digits, '.', '_' or '-'");
    }
    return v;
  }

  match(key: string, def: string, re: RegExp, expected: string): string {
    const v = this.raw(key) ?? def;
    if (!re.test(v)) {
      this.fail(key, v, `must be ${expected}`);
    }
    return v;
  }
}
