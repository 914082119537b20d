/**
 * What the fuzzing test sends, as fast-check arbitraries: every route of the API (a template with
 * `{kind}` placeholders and a valid body) and symbolic requests over them. A request stays
 * symbolic (a real id is "the n-th volume", a 2 MB body is its size) so that a seed replays the
 * same sequence whatever objects exist by then, and 10,000 of them fit in memory.
 */
import fc from "fast-check";

import type { Identity } from "./stack";

export { IDS, type Kind, NAMES, ROUTES, type RouteTemplate } from "./fuzzRoutes";
import { ROUTES } from "./fuzzRoutes";

/** How path segments and query parts are written: as they are (where HTTP allows), %-encoded, or twice. */
export type Encoding = "raw" | "uri" | "double";
/** A path segment: the n-th real value of its kind (whatever exists when it is sent), or a literal. */
export type Segment = { real: number } | { text: string };
/** One change to a route's valid body; `at` picks one of its nodes (modulo their number). */
export type Mutation =
  | { op: "drop"; at: number }
  | { op: "wrap"; at: number }
  | { op: "set"; at: number; value: unknown }
  | { op: "number"; at: number; text: string }
  | { op: "key"; at: number; key: string; value: unknown }
  | { op: "strings"; value: string };
export type BodySpec =
  | { kind: "none" | "valid" }
  | { kind: "mutated"; mutations: Mutation[] }
  | { kind: "json"; value: unknown }
  | { kind: "raw"; text: string }
  | { kind: "bytes"; bytes: number[] }
  | { kind: "deep"; levels: number; objects: boolean; inside: boolean }
  | { kind: "huge"; bytes: number };

export interface FuzzCase {
  route: number;
  who: Identity;
  /** null: `/v3/...` without a project. */
  project: Segment | null;
  /** One per placeholder of the route (the first ones). */
  segments: Segment[];
  encoding: Encoding;
  query: [string, string][];
  /** Whether the route's own query (when it has one) comes first. */
  validQuery: boolean;
  /** The OpenStack-API-Version header. */
  version: string | undefined;
  contentType: string | undefined;
  /** `Name: value` each. */
  headers: string[];
  body: BodySpec;
  /** Which real value a valid body picks. */
  pick: number;
}

/**
 * Strings that would do harm if they reached a shell, a path or a query. Each shell payload writes
 * (or removes) something under `marker`, so the test sees it if one ever ran.
 */

export function hostileStrings(marker: string): string[] {
  const x = `${marker}/pwned`;
  return [
    ...["..", ".", "../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd"],
    ...["%2e%2e", "....//....//etc/passwd", "..\\..\\win.ini", "/etc/passwd", "%00", "a%00b", "x\u0000y"],
    ...["%", "%zz", "%c0%ae%c0%ae%c0%af", "%252e%252e%252f", `../../../../../../../..${x}-traversal`],
    ...[`$(touch ${x}-dollar)`, `\`touch ${x}-backtick\``, `;touch ${x}-semicolon;`, `|touch ${x}-pipe`],
    ...[`&&touch ${x}-and`, `\ntouch ${x}-newline\n`, `>${x}-redirect`, `'$(touch ${x}-quoted)'`],
    ...[`";touch ${x}-dq;"`, `x;echo 1>${x}-echo`, `;rm -rf ${marker}/*`, `--output=${x}-option`],
    ...[`-o${x}-short`, `of=${x}-dd`, `${x}-absolute`, "$(sleep 3)", "${HOME}", "$PATH", "*", "~root", "-rf"],
    ...["--help", "' OR '1'='1", "1; DROP TABLE volumes;--", "%' --", "日本語", "💥", "\u202eevil", "\u200b"],
    ...["ﬁle", "İ", "e\u0301", "\ud800", "\\", '"', "'", " ", "", "0", "-1", "1e999", "NaN", "null", "true"],
    ...["[]", "{}", "detail", "action", "__proto__", "constructor"],
    ...hostStrings(marker),
  ];
}

/** `host@backend#pool` and its near misses, for migrate, manage and evacuation bodies and host paths. */
export function hostStrings(marker: string): string[] {
  return [
    ...["rel@file-2#file-2", "rel@file-1#file-1", "rel@file-2", "rel", "@#", "#", "@", "rel@"],
    ...["rel@file-2#", `rel@file-2#file-2$(touch ${marker}/pwned-host)`, "rel@file-2#file-2#file-2"],
    ...[`rel@file-2;touch ${marker}/pwned-host2#file-2`, `rel@../../..${marker}/pwned-host3#x`],
    ...["rel@@file-2", " rel@file-2#file-2 ", "REL@FILE-2#FILE-2"],
    ...["rel@file-2#file-2\n", "rel@file-2#file-2\u0000", "rel@file-2#file-2|id", "h".repeat(255)],
    ...["h".repeat(256), "rel＠file-2＃file-2", "rel@file-2\u202e#file-2"],
  ];
}

/** Numbers as JSON text, past what a double or a Postgres integer holds. */
const NUMBER_TEXTS = [
  ...["1e400", "-1e400", "123456789012345678901234567890", "-0", "1.0", "0.5e1", "2147483648"],
  ...["9007199254740993", "-9223372036854775809", "1E2", "0e0", "4294967296", "-2147483649"],
];
const RAW_TEXTS = [
  ...["", "null", "[]", "{}", '"x"', "0", "{", '{"volume":', "\uFEFF{}", "{'volume': {}}"],
  ...['{"a":1,}', "NaN", "<xml/>", "a=1&b=2", '{"__proto__":{"isAdmin":true}}'],
  ...['{"constructor":{"prototype":{"x":1}}}', '{"volume":{"size":1,"__proto__":{"x":1}}}'],
  ...['"\\ud800"', '{"a":"\\u0000"}', `[${"1,".repeat(1000)}1]`],
  ...['{"volume":{"size":1},"volume":{"size":2}}'],
  ...['{"os-extend":{"new_size":2},"os-extend":{"new_size":3}}'],
  ...['{"os-migrate_volume":{"host":"rel@file-2#file-2","host":"$(id)"}}', "true", "-1"],
  ...['[{"volume":{}}]'],
];
const KEYS = [
  ...["__proto__", "constructor", "prototype", "", " ", "a".repeat(300), "ключ", "$where", "host", "size"],
  ...["status"],
];
const QUERY_KEYS = [
  ...["limit", "marker", "sort", "sort_key", "sort_dir", "offset", "all_tenants", "name", "status"],
  ...["volume_id", "with_count", "detail", "host", "binary", "is_public", "usage", "force", "vol_type_id"],
  ...["state", "active", "zone", "resource_uuid", "metadata", "created_at", "project_id", "bootable"],
  ...["__proto__", "limit[]", "sort[a]"],
];
const QUERY_VALUES = [
  ...["-1", "0", "1", "1e309", "99999999999999999999", "1.5", "abc", "true", "false", "created_at:asc"],
  ...["name:desc,id", "id:sideways", "x:y:z", '{"a":"b"}', "available", "in-use", "3.0", ",,,"],
  ...["asc;desc", "", "null"],
];
const VERSIONS = [
  ...["volume 3.72", "volume 3.999", "volume 4.0", "volume 2.0", "volume 3.", "volume .1", "volume 03.1"],
  ...["volume 3.01", "volume -3.1", "volume 3.1.1", "volume", "compute 2.1", "volume 3.5, volume 3.7"],
  ...["compute 2.1, volume 3.40", "VOLUME 3.40", "volume  3.40", "volume 99999999999999999999.0", ""],
  ...["volume 3.99999999999999999999", "volume latest latest", "volume LATEST", "volume 3.0x"],
  ...["volume ٣.٠", "volume 3,40"],
];
const CONTENT_TYPES = [
  ...["application/json", "application/json; charset=utf-8", "application/json;charset=UTF-16"],
  ...["text/plain", "application/json; charset=latin1", "application/x-www-form-urlencoded"],
  ...["multipart/form-data; boundary=x", "application/xml", "*/*", "application/json-patch+json"],
  ...["garbage", "", ";;;", 'application/json; charset="'],
];

/** Extra headers, `Name: value`. */
const HEADERS = [
  ...["Content-Encoding: gzip", "Content-Encoding: deflate", "Content-Encoding: br", "Content-Encoding: x"],
  ...["Content-Encoding: gzip, gzip", 'If-Match: "abc"', "If-Match: *", 'If-Match: W/"x", "y"'],
  ...["Accept: application/xml", "Host: evil.example:1", "X-Forwarded-Proto: javascript"],
  ...["X-OpenStack-Request-ID: req-$(id)"],
];

const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>): fc.WeightedArbitrary<T> => ({ weight, arbitrary });
const one = <T>(...values: T[]): fc.Arbitrary<T> => fc.constantFrom(...values);

function mutationOf(text: fc.Arbitrary<string>, hosts: string[]): fc.Arbitrary<Mutation> {
  const value = fc.oneof(
    one<unknown>(null, true, false, "", -1, 0, 2 ** 31, 2 ** 53 + 2, 1e308, -1e308, 1.5, [], {}),
    text,
    fc.jsonValue({ maxDepth: 2 }),
    fc.integer(),
    fc.double(),
  );
  const at = fc.nat(1000);
  return fc.oneof(
    fc.record({ op: one("drop" as const, "wrap" as const), at }),
    fc.record({ op: fc.constant("set" as const), at, value }),
    fc.record({ op: fc.constant("number" as const), at, text: one(...NUMBER_TEXTS) }),
    fc.record({ op: fc.constant("key" as const), at, key: fc.oneof(one(...KEYS), fc.string()), value }),
    fc.record({ op: fc.constant("strings" as const), value: fc.oneof(text, one(...hosts)) }),
  );
}

function bodyOf(text: fc.Arbitrary<string>, hosts: string[]): fc.Arbitrary<BodySpec> {
  const mutations = fc.array(mutationOf(text, hosts), { minLength: 1, maxLength: 3 });
  const raw = fc.oneof(one(...RAW_TEXTS), fc.string({ maxLength: 200 }), fc.string({ unit: "binary" }));
  const bytes = fc.array(fc.nat(255), { minLength: 1, maxLength: 40 });
  const deep = fc.record({
    levels: one(33, 1_000, 5_000, 100_000),
    objects: fc.boolean(),
    inside: fc.boolean(),
  });
  const huge = one(2 * 1024 * 1024, 1024 * 1024 + 1, 1_000_000);
  // Weights per mille; 3 ‰ of 10,000 requests is some thirty bodies of a megabyte or two.
  return fc.oneof(
    { weight: 150, arbitrary: fc.constant({ kind: "none" as const }) },
    { weight: 200, arbitrary: fc.constant({ kind: "valid" as const }) },
    { weight: 300, arbitrary: mutations.map((m) => ({ kind: "mutated" as const, mutations: m })) },
    {
      weight: 120,
      arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => ({ kind: "json" as const, value: v })),
    },
    { weight: 100, arbitrary: raw.map((t) => ({ kind: "raw" as const, text: t })) },
    { weight: 30, arbitrary: bytes.map((b) => ({ kind: "bytes" as const, bytes: b })) },
    { weight: 30, arbitrary: deep.map((d) => ({ kind: "deep" as const, ...d })) },
    { weight: 3, arbitrary: huge.map((n) => ({ kind: "huge" as const, bytes: n })) },
  );
}

/** Mostly admin and member (both of project `demo`), sometimes another project, a bad token or none. */
const IDENTITY: fc.Arbitrary<Identity> = fc.oneof(
  w(45, fc.constant("admin" as const)),
  w(45, fc.constant("member" as const)),
  w(4, fc.constant("other" as const)),
  w(3, fc.constant("bad" as const)),
  w(3, fc.constant("none" as const)),
);

const VERSION: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 25, arbitrary: fc.constant(undefined) },
  { weight: 45, arbitrary: fc.nat(71).map((n) => `volume 3.${n}`) },
  { weight: 5, arbitrary: fc.constant("volume latest") },
  { weight: 20, arbitrary: one(...VERSIONS) },
  { weight: 5, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 20 }).map((s) => `volume ${s}`) },
);

/**
 * Four requests in ten are well-formed around the body (admin or member, real ids, a valid version,
 * JSON): those get past authentication and lookups, so their (mutated) bodies reach deep code.
 * The others fuzz everything at once.
 */
export function fuzzCase(marker: string): fc.Arbitrary<FuzzCase> {
  const long = one(256, 5_000, 20_000, 70_000).map((n) => "a".repeat(n));
  const grapheme = fc.string({ unit: "grapheme", maxLength: 30 });
  const text = fc.oneof(w(5, one(...hostileStrings(marker))), w(3, grapheme), w(1, long));
  const literal = (t: string): Segment => ({ text: t });
  const real = fc.nat(1000).map((n): Segment => ({ real: n }));
  const segment = fc.oneof(w(12, real), w(2, fc.uuid().map(literal)), w(6, text.map(literal)));
  const project = fc.oneof(
    { weight: 85, arbitrary: fc.constant({ real: 0 }) },
    { weight: 5, arbitrary: fc.constant(null) },
    { weight: 10, arbitrary: fc.oneof(one("other", "admin"), text).map(literal) },
  );
  const queryKey = fc.oneof(w(4, one(...QUERY_KEYS)), w(1, text));
  const header = fc.oneof(
    w(4, one(...HEADERS)),
    w(
      1,
      text.map((t) => `X-Fuzz: ${t}`),
    ),
  );
  const shared = {
    route: fc.nat(ROUTES.length - 1),
    body: bodyOf(text, hostStrings(marker)),
    pick: fc.nat(1000),
  };
  const wellFormed: fc.Arbitrary<FuzzCase> = fc.record({
    ...shared,
    who: one<Identity>("admin", "member"),
    project: fc.constant({ real: 0 }),
    segments: fc.array(real, { minLength: 3, maxLength: 3 }),
    encoding: fc.constant("uri" as const),
    query: fc.constant([]),
    validQuery: fc.constant(true),
    version: fc.nat(71).map((n) => `volume 3.${n}`),
    contentType: fc.constant("application/json"),
    headers: fc.constant([]),
  });
  const anything: fc.Arbitrary<FuzzCase> = fc.record({
    ...shared,
    who: IDENTITY,
    project,
    segments: fc.array(segment, { minLength: 3, maxLength: 3 }),
    encoding: fc.oneof(w(4, one<Encoding>("raw")), w(5, one<Encoding>("uri")), w(1, one<Encoding>("double"))),
    query: fc.array(fc.tuple(queryKey, fc.oneof(one(...QUERY_VALUES), text)), { maxLength: 4 }),
    validQuery: fc.boolean(),
    version: VERSION,
    contentType: fc.oneof(w(3, fc.constant(undefined)), w(5, one(...CONTENT_TYPES)), w(1, fc.string())),
    headers: fc.array(header, { maxLength: 2 }),
  });
  return fc.oneof(w(4, wellFormed), w(6, anything));
}
