/**
 * Request-body validation with ajv, reporting errors exactly as Cinder does
 * (cinder/api/validation/validators.py on Python jsonschema):
 *
 * - Python's `validator.validate()` raises the FIRST error of `iter_errors()`, which walks each
 *   schema object's keywords in their written order, depth first. ajv reports errors in its own
 *   keyword order, so we collect all of them and pick the one Python would have met first, by
 *   comparing the positions of the schemaPath segments in the schema objects.
 * - The message is "Invalid input for field/attribute <last path element>. Value: <str(instance)>.
 *   <jsonschema message>", or the bare message for errors at the body root, or, for Cinder formats
 *   whose checker raises, that checker's own message.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";

import { ValidationError } from "../../common/errors";
import { FORMATS } from "./formats";
import { pyRepr, pyStr } from "./pyrepr";

export type JsonSchema = Record<string, unknown>;

/** Cinder's `_number_from_str`: int(), then float(), else not a number (the check is skipped). */
function numberFromPython(value: unknown): number | null {
  if (typeof value === "number") {
    return value;
  }
  if (typeof value === "string" && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(value)) {
    return Number(value);
  }
  return null;
}

function createAjv(): Ajv {
  // strictRequired off: Cinder writes `anyOf: [{required: [x]}, …]` branches naming properties
  // declared by the parent schema (os-attach, PUT /volumes at 3.53).
  const ajv = new Ajv({
    allErrors: true,
    verbose: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
  });
  ajv.addKeyword({
    keyword: "cinderFormat",
    schemaType: "string",
    validate: (format: string, data: unknown) => FORMATS[format]?.valid(data) ?? true,
  });
  // Cinder overrides minimum/maximum so that "10" is compared as 10.
  ajv.addKeyword({
    keyword: "numericMinimum",
    schemaType: "number",
    validate: (limit: number, data: unknown) => {
      const n = typeof data === "boolean" ? null : numberFromPython(data);
      return n === null || n >= limit;
    },
  });
  ajv.addKeyword({
    keyword: "numericMaximum",
    schemaType: "number",
    validate: (limit: number, data: unknown) => {
      const n = typeof data === "boolean" ? null : numberFromPython(data);
      return n === null || n <= limit;
    },
  });
  return ajv;
}

// Compiled validators are immutable once built; one ajv instance keeps compilation cheap.
const ajv = createAjv();

/** JSON-pointer segments; ajv also URI-encodes the segments of a schemaPath (not of an instancePath). */
function segments(pointer: string, uriEncoded = false): string[] {
  return pointer
    .replace(/^#?\//, "")
    .split("/")
    .filter((s) => s !== "")
    .map((s) => (uriEncoded ? decodeURIComponent(s) : s).replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** Position of each schemaPath segment within its parent: Python's iteration order. */
function orderKey(root: JsonSchema, schemaPath: string): number[] {
  const key: number[] = [];
  let node: unknown = root;
  for (const seg of segments(schemaPath, true)) {
    if (Array.isArray(node)) {
      key.push(Number(seg));
      node = node[Number(seg)];
    } else if (node !== null && typeof node === "object") {
      key.push(Object.keys(node).indexOf(seg));
      node = (node as Record<string, unknown>)[seg];
    } else {
      key.push(0);
    }
  }
  return key;
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return a[i]! - b[i]!;
    }
  }
  return a.length - b.length;
}

/** jsonschema reports a failed oneOf/anyOf as one error; ajv also lists each branch's errors. */
function isBranchError(e: ErrorObject): boolean {
  return /\/(oneOf|anyOf)\/\d+\//.test(e.schemaPath);
}

function typesOf(schemaType: unknown): string {
  const list = Array.isArray(schemaType) ? schemaType : [schemaType];
  return list.map(pyRepr).join(", ");
}

/** jsonschema's message for one error (additional properties already merged into `extras`). */
function jsonschemaMessage(e: ErrorObject, extras: string[]): string {
  const inst = pyRepr(e.data);
  switch (e.keyword) {
    case "type":
      return `${inst} is not of type ${typesOf(e.schema)}`;
    case "enum":
      return `${inst} is not one of ${pyRepr(e.schema)}`;
    case "required":
      return `${pyRepr((e.params as { missingProperty: string }).missingProperty)} is a required property`;
    case "additionalProperties": {
      const sorted = [...extras].sort();
      const patterns = (e.parentSchema as { patternProperties?: Record<string, unknown> } | undefined)
        ?.patternProperties;
      if (patterns) {
        const verb = sorted.length === 1 ? "does" : "do";
        const regexes = Object.keys(patterns).sort().map(pyRepr).join(", ");
        return `${sorted.map(pyRepr).join(", ")} ${verb} not match any of the regexes: ${regexes}`;
      }
      const verb = sorted.length === 1 ? "was" : "were";
      return `Additional properties are not allowed (${sorted.map(pyRepr).join(", ")} ${verb} unexpected)`;
    }
    case "maxLength":
      return `${inst} is too long`;
    case "minLength":
      return `${inst} is too short`;
    case "minimum":
      return `${inst} is less than the minimum of ${pyRepr(e.schema)}`;
    case "maximum":
      return `${inst} is greater than the maximum of ${pyRepr(e.schema)}`;
    case "numericMinimum":
      return `${pyRepr(numberFromPython(e.data))} is less than the minimum of ${pyRepr(e.schema)}`;
    case "numericMaximum":
      return `${pyRepr(numberFromPython(e.data))} is greater than the maximum of ${pyRepr(e.schema)}`;
    case "pattern":
      return `${inst} does not match ${pyRepr(e.schema)}`;
    case "minProperties":
      return e.schema === 1 ? `${inst} should be non-empty` : `${inst} does not have enough properties`;
    case "maxProperties":
      return e.schema === 0 ? `${inst} is expected to be empty` : `${inst} has too many properties`;
    case "cinderFormat":
      return `${inst} is not a ${pyRepr(e.schema)}`;
    case "oneOf":
    case "anyOf":
      return `${inst} is not valid under any of the given schemas`;
    default:
      return e.message ?? "is invalid";
  }
}

/** The client-facing message for the error Python would raise. */
export function cinderMessage(root: JsonSchema, errors: readonly ErrorObject[]): string {
  const candidates = errors.filter((e) => !isBranchError(e));
  const ordered = candidates
    .map((e, i) => ({ e, i, key: orderKey(root, e.schemaPath) }))
    .sort((a, b) => compareKeys(a.key, b.key) || a.i - b.i);
  const first = ordered[0]?.e;
  if (!first) {
    return "Invalid input";
  }
  if (first.keyword === "cinderFormat") {
    const check = FORMATS[first.schema as string];
    if (check?.message) {
      return check.message(first.data);
    }
  }
  const extras = candidates
    .filter(
      (e) =>
        e.keyword === "additionalProperties" &&
        e.instancePath === first.instancePath &&
        e.schemaPath === first.schemaPath,
    )
    .map((e) => (e.params as { additionalProperty: string }).additionalProperty);
  const message = jsonschemaMessage(first, extras);
  const path = segments(first.instancePath);
  if (path.length === 0) {
    return message;
  }
  return `Invalid input for field/attribute ${path[path.length - 1]}. Value: ${pyStr(first.data)}. ${message}`;
}

export type BodyValidator = (body: unknown) => void;

/** Compile a schema into a function that throws Cinder's 400 ValidationError. */
export function compileSchema(schema: JsonSchema): BodyValidator {
  const validate: ValidateFunction = ajv.compile(schema);
  return (body: unknown) => {
    if (!validate(body)) {
      throw new ValidationError(cinderMessage(schema, validate.errors ?? []));
    }
  };
}
