/**
 * Issue 14 item 6: a broker outage is routine. The AMQP bus, on the real RabbitMQ (a vhost of this
 * file's own), loses its connections the way a broker restart or failover takes them
 * (`rabbitmqctl close_all_connections` on that vhost only), or loses the broker altogether (a TCP
 * proxy in front of it that drops every connection and refuses new ones), and must come back by
 * itself: re-created channels, re-declared queues, re-subscribed topics and reply consumer.
 * Meanwhile what is sent waits (bounded) and then fails with BusUnavailable, which the API answers
 * as a 503 `serviceUnavailable`; the heartbeat stops while the bus is down.
 */
import net from "node:net";

import type { Express } from "express";
import pino from "pino";
import request from "supertest";

import { createApp } from "../../api/app";
import { parseConfig } from "../../common/config";
import { BusUnavailable } from "../../common/errors";
import { SCHEDULER_TOPIC } from "../../common/hosts";
import type { Logger } from "../../common/logger";
import { ServiceBinary } from "../../common/states";
import { Heartbeat } from "../../services/heartbeat";
import { AmqpBus, type AmqpBusDeps } from "../../services/rpc/amqp";
import { patientBus } from "../../services/rpc/patient";
import type { RpcArgs } from "../../services/rpc/types";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { createVhost, type TestVhost } from "../helpers/rabbit";
import { waitFor } from "../helpers/stack";

const AMQP = new URL(process.env["VMS_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672");

/** Every log line of the buses, to check that each loss and each reconnect is reported. */
const lines: { level: number; msg: string }[] = [];
const logger: Logger = pino(
  { level: "info" },
  { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) },
);

let vhost: TestVhost;
let t: TestDatabase;
let proxy: BrokerProxy;
const opened: AmqpBus[] = [];

beforeAll(async () => {
  vhost = createVhost();
  t = await createTestDatabase();
  proxy = await startProxy();
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(opened.map((b) => b.close()));
  proxy?.close();
  await t?.drop();
  vhost?.drop();
});

async function bus(deps: Partial<AmqpBusDeps> = {}, url = vhost.url): Promise<AmqpBus> {
  const b = await AmqpBus.connect(url, {
    logger,
    drainTimeoutMs: 500,
    reconnectDelayMs: { initial: 100, max: 1_000 },
    ...deps,
  });
  opened.push(b);
  return b;
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Records every change of isConnected() of the buses given, sampled every 2 ms. */
function watchConnected(buses: Record<string, AmqpBus>): { seen: Record<string, boolean[]>; stop(): void } {
  const seen = Object.fromEntries(Object.entries(buses).map(([k, b]) => [k, [b.isConnected()]]));
  const timer = setInterval(() => {
    for (const [k, b] of Object.entries(buses)) {
      const states = seen[k]!;
      if (states[states.length - 1] !== b.isConnected()) {
        states.push(b.isConnected());
      }
    }
  }, 2);
  return { seen, stop: () => clearInterval(timer) };
}

test("after rabbitmqctl closes the vhost's connections, both ends reconnect: a cast sent after the cut is handled, a call answered, the interrupted handler's message redelivered", async () => {
  const topic = "reconnect.cut";
  const server = await bus();
  // The client redials after ≥ 1 s, so the cast below is surely sent while it is disconnected.
  const client = await bus({ reconnectDelayMs: { initial: 1_000, max: 2_000 } });
  const casts: RpcArgs[] = [];
  const castAfterCut = deferred<RpcArgs>();
  const slowStarted = deferred();
  const slowRedelivered = deferred();
  const release = deferred();
  let slowRuns = 0;
  await server.serve(topic, {
    work: async (args) => {
      casts.push(args);
      if (args["n"] === 2) {
        castAfterCut.resolve(args);
      }
    },
    echo: async (args) => ({ echoed: args }),
    slow: async () => {
      if (++slowRuns === 1) {
        slowStarted.resolve();
      } else {
        slowRedelivered.resolve();
      }
      await release.promise;
    },
  });
  await client.cast(topic, "work", { n: 1 });
  await expect(client.call(topic, "echo", { n: 0 }, { timeoutMs: 10_000 })).resolves.toStrictEqual({
    echoed: { n: 0 },
  });
  await client.cast(topic, "slow", {});
  await slowStarted.promise;

  const watch = watchConnected({ server, client });
  const cut = vhost.closeConnections();
  await waitFor(async () => !client.isConnected(), "the client to see its connection closed", 60_000, 2);
  expect(client.isConnected()).toBe(false);
  const sent = client.cast(topic, "work", { n: 2 });
  expect(await cut).toBeGreaterThanOrEqual(2);
  await sent;
  await expect(castAfterCut.promise).resolves.toStrictEqual({ n: 2 });
  await expect(client.call(topic, "echo", { n: 3 }, { timeoutMs: 20_000 })).resolves.toStrictEqual({
    echoed: { n: 3 },
  });
  // The handler running at the cut was not acknowledged: the broker delivers its message again.
  await slowRedelivered.promise;
  release.resolve();
  watch.stop();
  expect(watch.seen).toEqual({ server: [true, false, true], client: [true, false, true] });
  expect(casts).toEqual([{ n: 1 }, { n: 2 }]);
  expect(slowRuns).toBe(2);
  expect(lines.filter((l) => /^lost the message broker/.test(l.msg)).length).toBeGreaterThanOrEqual(2);
  expect(lines.filter((l) => /^reconnected to the message broker/.test(l.msg)).length).toBeGreaterThanOrEqual(
    2,
  );
  await server.close();
  await client.close();
}, 120_000);

test("with the broker unreachable, casts and calls fail with BusUnavailable after the bound, POST /volumes answers 503, the heartbeat stops; all back once it returns", async () => {
  const viaProxy = `amqp://${AMQP.username || "guest"}:${AMQP.password || "guest"}@127.0.0.1:${proxy.port}/${vhost.name}`;
  const WAIT_MS = 1_500;
  const b = await bus({ connectWaitMs: WAIT_MS, reconnectDelayMs: { initial: 100, max: 400 } }, viaProxy);
  const worker = await bus();
  const app: Express = createApp({
    db: t.db,
    bus: b,
    config: parseConfig("[DEFAULT]\nnoauth_admin_users = admin\n", {}),
    logger,
  });
  const heartbeat = new Heartbeat({
    db: t.db,
    logger,
    service: {
      host: "reconnect@file-1",
      binary: ServiceBinary.VOLUME,
      topic: "cinder-volume",
      availabilityZone: "nova",
    },
    intervalSecs: 3600,
    bus: b,
  });
  const reports = async (): Promise<number> =>
    Number((await t.db("services").where({ host: "reconnect@file-1" }).first())?.report_count ?? 0);
  await heartbeat.beat();
  expect(await reports()).toBe(1);
  expect(b.isConnected()).toBe(true);

  proxy.cut();
  await waitFor(async () => !b.isConnected(), "the bus to see the broker gone", 10_000, 5);

  let started = Date.now();
  const err = await b.cast("reconnect.down", "work", {}).then(
    () => new Error("the cast was accepted with no broker"),
    (e: unknown) => e,
  );
  expect(Date.now() - started).toBeGreaterThanOrEqual(WAIT_MS - 50);
  expect(err).toBeInstanceOf(BusUnavailable);
  expect((err as BusUnavailable).httpStatus).toBe(503);
  expect((err as Error).message).toMatch(
    /^The message bus is unavailable: no broker connection \(connection closed\), not back within \d+ ms/,
  );
  started = Date.now();
  await expect(b.call("reconnect.down", "work", {}, { timeoutMs: 20_000 })).rejects.toBeInstanceOf(
    BusUnavailable,
  );
  expect(Date.now() - started).toBeLessThan(10_000);
  // A call whose own deadline is nearer than the bound times out as before.
  await expect(b.call("reconnect.down", "work", {}, { timeoutMs: 200 })).rejects.toThrow(
    /Timed out after 200 ms/,
  );

  const refused = await request(app)
    .post("/v3/demo/volumes")
    .set("X-Auth-Token", "admin:demo")
    .send({ volume: { size: 1, name: "during-outage" } });
  expect(refused.status).toBe(503);
  expect(refused.body).toEqual({
    serviceUnavailable: { code: 503, message: expect.stringMatching(/message bus is unavailable/) },
  });
  // Nobody will pick that volume up: it shows as failed, as for any cast that could not be sent.
  expect(await t.db("volumes").where({ name: "during-outage" }).pluck("status")).toEqual(["error"]);

  await heartbeat.beat();
  expect(await reports()).toBe(1);
  expect(lines.some((l) => /heartbeats paused/.test(l.msg))).toBe(true);

  proxy.restore();
  await waitFor(async () => b.isConnected(), "the bus to reconnect", 20_000, 5);
  await heartbeat.beat();
  expect(await reports()).toBe(2);
  const accepted = await request(app)
    .post("/v3/demo/volumes")
    .set("X-Auth-Token", "admin:demo")
    .send({ volume: { size: 1, name: "after-outage" } });
  expect(accepted.status).toBe(202);
  // The cast of that request reaches the scheduler's queue.
  const got = deferred<RpcArgs>();
  await worker.serve(SCHEDULER_TOPIC, { create_volume: async (args) => got.resolve(args) });
  await expect(got.promise).resolves.toStrictEqual({ volume_id: accepted.body.volume.id });
  expect(lines.filter((l) => /could not reconnect to the message broker/.test(l.msg)).length).toBeGreaterThan(
    0,
  );
  await heartbeat.stop();
  await b.close();
  await worker.close();
}, 120_000);

test("a volume worker's own calls (patientBus) outlast an outage longer than the bound: an idempotent call is answered once the broker is back; others fail as before", async () => {
  const viaProxy = `amqp://${AMQP.username || "guest"}:${AMQP.password || "guest"}@127.0.0.1:${proxy.port}/${vhost.name}`;
  const WAIT_MS = 500;
  proxy.restore(); // whatever an earlier test left
  const raw = await bus({ connectWaitMs: WAIT_MS, reconnectDelayMs: { initial: 100, max: 400 } }, viaProxy);
  const worker = await bus();
  const handled: RpcArgs[] = [];
  await worker.serve("patient.dest", {
    update_migrated_volume: async (args) => (handled.push(args), { name_id: null }),
    create_migration_target: async () => "created",
  });
  const b = patientBus(raw, {
    idempotent: new Set(["update_migrated_volume"]),
    retryDelayMs: 200,
    waitMs: 60_000,
    logger,
  });
  proxy.cut();
  await waitFor(async () => !raw.isConnected(), "the bus to see the broker gone", 10_000, 5);
  const started = Date.now();
  const answered = b.call(
    "patient.dest",
    "update_migrated_volume",
    { volume_id: "v" },
    { timeoutMs: 20_000 },
  );
  // Not idempotent: fails after the bus's own bound, as an API request's call would.
  await expect(b.call("patient.dest", "create_migration_target", {})).rejects.toBeInstanceOf(BusUnavailable);
  // Down for several times the bound, as a RabbitMQ restart on a loaded machine is.
  await new Promise((r) => setTimeout(r, 4 * WAIT_MS));
  proxy.restore();
  await expect(answered).resolves.toEqual({ name_id: null });
  expect(Date.now() - started).toBeGreaterThanOrEqual(4 * WAIT_MS);
  expect(handled).toEqual([{ volume_id: "v" }]);
  expect(lines.some((l) => /trying the call again once it is back/.test(l.msg))).toBe(true);
  await raw.close();
  await worker.close();
}, 120_000);

test("close() works while the bus is disconnected, and stops the reconnecting", async () => {
  const viaProxy = `amqp://${AMQP.username || "guest"}:${AMQP.password || "guest"}@127.0.0.1:${proxy.port}/${vhost.name}`;
  const b = await bus({ connectWaitMs: 10_000 }, viaProxy);
  proxy.cut();
  await waitFor(async () => !b.isConnected(), "the bus to see the broker gone", 10_000, 5);
  const waiting = b.cast("reconnect.closed", "work", {}).then(
    () => "accepted",
    (e: Error) => e.message,
  );
  const started = Date.now();
  await b.close();
  expect(Date.now() - started).toBeLessThan(2_000);
  await expect(waiting).resolves.toMatch(/closed/);
  proxy.restore();
  await new Promise((r) => setTimeout(r, 1_500));
  expect(b.isConnected()).toBe(false);
  expect(proxy.accepted()).toBe(proxy.acceptedAtCut);
}, 60_000);

interface BrokerProxy {
  port: number;
  /** Drops every open connection and refuses new ones, as a broker that is down. */
  cut(): void;
  restore(): void;
  /** Connections accepted (and forwarded) so far; and that count when cut() was last called. */
  accepted(): number;
  acceptedAtCut: number;
  close(): void;
}

/** A TCP proxy to the broker that the test can take down without touching the broker. */
async function startProxy(): Promise<BrokerProxy> {
  const sockets = new Set<net.Socket>();
  let down = false;
  let accepted = 0;
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = net.connect(Number(AMQP.port || 5672), AMQP.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const proxy: BrokerProxy = {
    port: (server.address() as net.AddressInfo).port,
    cut: () => {
      down = true;
      proxy.acceptedAtCut = accepted;
      for (const s of sockets) {
        s.destroy();
      }
    },
    restore: () => {
      down = false;
    },
    accepted: () => accepted,
    acceptedAtCut: 0,
    close: () => {
      proxy.cut();
      server.close();
    },
  };
  return proxy;
}
