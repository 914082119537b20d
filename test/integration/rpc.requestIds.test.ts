/**
 * Both buses carry the sender's request ids with each cast and call and run the handler under
 * them; a message sent outside any request runs with none, whoever delivers it.
 */
import { randomUUID } from "node:crypto";

import { connect } from "amqplib";

import { silentLogger } from "../../common/logger";
import { currentRequestIds, type RequestIds, runWithRequestIds } from "../../common/requestContext";
import { AmqpBus } from "../../services/rpc/amqp";
import { MemoryBus } from "../../services/rpc/memory";
import type { Bus } from "../../services/rpc/types";

const AMQP_URL = process.env["VMS_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672";
const IDS: RequestIds = {
  requestId: "req-11111111-2222-4333-8444-555555555555",
  globalRequestId: "req-aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
};
const OTHER: RequestIds = { requestId: "req-99999999-2222-4333-8444-555555555555" };

const buses: [string, () => Promise<Bus>][] = [
  ["memory", async () => new MemoryBus({ logger: silentLogger() })],
  ["amqp", () => AmqpBus.connect(AMQP_URL, { logger: silentLogger() })],
];

describe.each(buses)("%s bus", (_name, open) => {
  let bus: Bus;
  const topic = `vms-test.request-ids.${randomUUID().slice(0, 8)}`;
  const seen: (RequestIds | undefined)[] = [];
  let next: (() => void) | undefined;

  beforeAll(async () => {
    bus = await open();
    // Served under other ids: the handler must not inherit what the serving code ran under.
    await runWithRequestIds(OTHER, () =>
      bus.serve(topic, {
        record: async () => {
          seen.push(currentRequestIds());
          next?.();
          return currentRequestIds() ?? null;
        },
      }),
    );
  });
  afterAll(async () => {
    await bus.close();
    if (bus instanceof AmqpBus) {
      // The durable queue would outlive the test on the shared broker.
      const admin = await connect(AMQP_URL);
      const ch = await admin.createChannel();
      await ch.deleteQueue(topic);
      await admin.close();
    }
  });

  test("a call's handler runs under the caller's ids", async () => {
    const reply = await runWithRequestIds(IDS, () => bus.call(topic, "record", {}));
    expect(reply).toEqual(IDS);
    expect(currentRequestIds()).toBeUndefined();
  });

  test("a cast's handler runs under the caster's ids; one sent outside a request under none", async () => {
    seen.length = 0;
    const two = new Promise<void>((resolve) => {
      next = () => seen.length === 2 && resolve();
    });
    await runWithRequestIds({ requestId: IDS.requestId }, () => bus.cast(topic, "record", {}));
    await bus.cast(topic, "record", {});
    await two;
    expect(seen).toEqual([{ requestId: IDS.requestId }, undefined]);
  });
});
