/** Python repr and Cinder-style schema messages (api/validation). */
import { ApiVersion } from "../../api/microversion";
import { validateMigrateVolume } from "../../api/schemas/adminActions";
import { boolean } from "../../api/schemas/parameterTypes";
import { MAX_REPR_DEPTH, pyRepr, pyStr } from "../../api/validation/pyrepr";
import { compileSchema } from "../../api/validation/validator";

const V30 = new ApiVersion(3, 0);
const V316 = new ApiVersion(3, 16);

function messageOf(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected a validation error");
}

describe("pyRepr", () => {
  test.each([
    [null, "None"],
    [true, "True"],
    [false, "False"],
    [0, "0"],
    [1.5, "1.5"],
    [1e-7, "1e-07"],
    ["a", "'a'"],
    ["it's", '"it\'s"'],
    ["both ' and \"", "'both \\' and \"'"],
    ["tab\there", "'tab\\there'"],
    ["\u0001", "'\\x01'"],
    ["é", "'é'"],
    [[1, "x", null], "[1, 'x', None]"],
    [{ host: "h", force_host_copy: false }, "{'host': 'h', 'force_host_copy': False}"],
    [{}, "{}"],
  ])("%p → %s", (value, expected) => {
    expect(pyRepr(value)).toBe(expected);
  });

  test("str() leaves strings bare", () => {
    expect(pyStr("  true  ")).toBe("  true  ");
    expect(pyStr({ a: 1 })).toBe("{'a': 1}");
  });

  test("a value nested 100,000 deep prints its first 100 levels, not a stack overflow", () => {
    let arrays: unknown = 1;
    let objects: unknown = 1;
    for (let i = 0; i < 100_000; i++) {
      arrays = [arrays];
      objects = { a: objects };
    }
    expect(pyRepr(arrays)).toBe(`${"[".repeat(MAX_REPR_DEPTH)}[...]${"]".repeat(MAX_REPR_DEPTH)}`);
    expect(pyRepr(objects)).toBe(`${"{'a': ".repeat(MAX_REPR_DEPTH)}{...}${"}".repeat(MAX_REPR_DEPTH)}`);
  });
});

describe("Cinder's first error wins", () => {
  test("a property error comes before a missing required property (schema key order)", () => {
    const msg = messageOf(() =>
      validateMigrateVolume({ "os-migrate_volume": { force_host_copy: "x" } }, V30),
    );
    expect(msg).toMatch(
      /^Invalid input for field\/attribute force_host_copy\. Value: x\. 'x' is not one of \[True, 'True'/,
    );
  });

  test("host errors come before boolean errors (properties order)", () => {
    const msg = messageOf(() =>
      validateMigrateVolume({ "os-migrate_volume": { lock_volume: 7, host: 5 } }, V30),
    );
    expect(msg).toBe("Invalid input for field/attribute host. Value: 5. 5 is not of type 'string'");
  });

  test("type before enum within the boolean type", () => {
    const v = compileSchema({ type: "object", properties: { b: boolean } });
    expect(messageOf(() => v({ b: [] }))).toBe(
      "Invalid input for field/attribute b. Value: []. [] is not of type 'boolean', 'string'",
    );
  });

  test("errors at the root are bare; extra keys are listed together, sorted", () => {
    expect(
      messageOf(() => validateMigrateVolume({ "os-migrate_volume": { host: "h" }, z: 1, a: 2 }, V30)),
    ).toBe("Additional properties are not allowed ('a', 'z' were unexpected)");
    expect(messageOf(() => validateMigrateVolume([], V30))).toBe("[] is not of type 'object'");
  });

  test("host too long", () => {
    const host = "h".repeat(256);
    expect(messageOf(() => validateMigrateVolume({ "os-migrate_volume": { host } }, V316))).toBe(
      `Invalid input for field/attribute host. Value: ${host}. '${host}' is too long`,
    );
  });

  test("3.16 accepts cluster only, null host and string booleans", () => {
    expect(() =>
      validateMigrateVolume({ "os-migrate_volume": { cluster: "c", host: null, lock_volume: "yes" } }, V316),
    ).not.toThrow();
  });

  test("oneOf reports one error, not the branches'", () => {
    const v = compileSchema({
      type: "object",
      properties: { id: { oneOf: [{ type: "string", cinderFormat: "uuid" }, { type: "null" }] } },
    });
    expect(messageOf(() => v({ id: 5 }))).toBe(
      "Invalid input for field/attribute id. Value: 5. 5 is not valid under any of the given schemas",
    );
  });
});
