/**
 * Python's `repr()` and `str()` of JSON values. Cinder's schema-error messages embed the offending
 * value as Python prints it (`{'force_host_copy': False}`, `'foo' is not one of [True, 'True', …]`),
 * and clients and tests compare those strings verbatim, so we reproduce the formatting here.
 */

/** Characters Python's str.isprintable() rejects: every "Other" and separator category except ' '. */
const NON_PRINTABLE = /[\p{C}\p{Z}]/u;

function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === quote || ch === "\\") {
      out += `\\${ch}`;
    } else if (ch === "\n") {
      out += "\\n";
    } else if (ch === "\r") {
      out += "\\r";
    } else if (ch === "\t") {
      out += "\\t";
    } else if (ch !== " " && NON_PRINTABLE.test(ch)) {
      out += escapeCodePoint(ch.codePointAt(0)!);
    } else {
      out += ch;
    }
  }
  return out + quote;
}

function escapeCodePoint(cp: number): string {
  if (cp < 0x100) {
    return `\\x${cp.toString(16).padStart(2, "0")}`;
  }
  if (cp < 0x10000) {
    return `\\u${cp.toString(16).padStart(4, "0")}`;
  }
  return `\\U${cp.toString(16).padStart(8, "0")}`;
}

function reprNumber(n: number): string {
  if (Number.isInteger(n)) {
    return String(n);
  }
  if (Number.isNaN(n)) {
    return "nan";
  }
  if (!Number.isFinite(n)) {
    return n > 0 ? "inf" : "-inf";
  }
  // Python writes exponents with at least two digits (1e-07); JS writes 1e-7.
  return String(n).replace(/e([+-])(\d)$/, "e$10$2");
}

/**
 * Containers nested deeper than this print as `[...]` / `{...}` (Python's notation for what it
 * will not print again) instead of overflowing the stack. Request bodies never get here that deep
 * (api/context.ts refuses them first); this keeps any other caller from crashing the request.
 */
export const MAX_REPR_DEPTH = 100;

/** Python `repr()` of a value decoded from JSON. */
export function pyRepr(value: unknown): string {
  return repr(value, 0);
}

function repr(value: unknown, depth: number): string {
  if (value === null || value === undefined) {
    return "None";
  }
  if (value === true) {
    return "True";
  }
  if (value === false) {
    return "False";
  }
  if (typeof value === "number") {
    return reprNumber(value);
  }
  if (typeof value === "string") {
    return reprString(value);
  }
  if (Array.isArray(value)) {
    return depth >= MAX_REPR_DEPTH ? "[...]" : `[${value.map((v) => repr(v, depth + 1)).join(", ")}]`;
  }
  if (typeof value === "object") {
    if (depth >= MAX_REPR_DEPTH) {
      return "{...}";
    }
    const items = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => `${reprString(k)}: ${repr(v, depth + 1)}`,
    );
    return `{${items.join(", ")}}`;
  }
  return String(value);
}

/** Python `str()`: strings print bare, everything else as its repr. */
export function pyStr(value: unknown): string {
  return typeof value === "string" ? value : pyRepr(value);
}
