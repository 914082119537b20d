import { Writable } from "node:stream";

import { createLogger } from "../../common/logger";
import {
  currentRequestIds,
  isRequestId,
  newRequestId,
  requestIdColumns,
  requestIdsOf,
  runOutsideRequest,
  runWithRequestIds,
} from "../../common/requestContext";

/** A logger whose lines are parsed into `lines`. */
function capture(): { lines: Record<string, unknown>[]; log: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split("\n").filter(Boolean)) {
        lines.push(JSON.parse(l) as Record<string, unknown>);
      }
      done();
    },
  });
  return { lines, log: createLogger({ name: "t", level: "info", destination: sink }) };
}

const A = "req-11111111-2222-4333-8444-555555555555";
const B = "req-aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

test("request ids follow awaits, timers and child loggers, and no further than their run", async () => {
  const { lines, log } = capture();
  const child = log.child({ component: "x" });
  await runWithRequestIds({ requestId: A, globalRequestId: B }, async () => {
    log.info({ volume_id: "v1" }, "inside");
    await new Promise((r) => setTimeout(r, 1));
    child.info("after a timer");
    await new Promise<void>((r) => setImmediate(() => runOutsideRequest(() => (log.info("outside"), r()))));
  });
  log.info("after the run");
  expect(lines.map((l) => [l["msg"], l["request_id"], l["global_request_id"]])).toEqual([
    ["inside", A, B],
    ["after a timer", A, B],
    ["outside", undefined, undefined],
    ["after the run", undefined, undefined],
  ]);
  // The mixin adds to what a line already says; it never drops its own fields.
  expect(lines[0]).toMatchObject({ volume_id: "v1", name: "t" });
  expect(lines[1]).toMatchObject({ component: "x" });
});

test("concurrent requests keep their own ids, and undefined clears an inherited one", async () => {
  const { lines, log } = capture();
  const step = (id: string): Promise<void> =>
    runWithRequestIds({ requestId: id }, async () => {
      await new Promise((r) => setTimeout(r, 5));
      log.info({ id }, "step");
    });
  await Promise.all([step(A), step(B)]);
  await runWithRequestIds({ requestId: A }, () =>
    runWithRequestIds(undefined, async () => log.info({ id: null }, "cleared")),
  );
  expect(lines.map((l) => [l["id"], l["request_id"]])).toEqual([
    [A, A],
    [B, B],
    [null, undefined],
  ]);
  expect(currentRequestIds()).toBeUndefined();
});

test("ids are taken in oslo's req-<uuid> form only, and go to and from a row's columns", () => {
  expect(isRequestId(newRequestId())).toBe(true);
  for (const bad of [
    "",
    "req-",
    "req-XYZ",
    `${A}\n`,
    ` ${A}`,
    42,
    null,
    "11111111-2222-4333-8444-555555555555",
  ]) {
    expect(isRequestId(bad)).toBe(false);
  }
  expect(requestIdColumns()).toEqual({ request_id: null, global_request_id: null });
  const cols = runWithRequestIds({ requestId: A, globalRequestId: B }, requestIdColumns);
  expect(cols).toEqual({ request_id: A, global_request_id: B });
  expect(requestIdsOf(cols)).toEqual({ requestId: A, globalRequestId: B });
  expect(requestIdsOf({ request_id: A, global_request_id: null })).toEqual({ requestId: A });
  expect(requestIdsOf({ request_id: "forged", global_request_id: B })).toBeUndefined();
  expect(requestIdsOf({})).toBeUndefined();
});
