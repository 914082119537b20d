import { randomUUID } from "node:crypto";

import type {
  Channel,
  ChannelModel,
  ConfirmChannel,
  ConsumeMessage,
  Options,
  RecoveringChannelModel,
} from "amqplib";
import { connect } from "amqplib";

import {
  BusUnavailable,
  coerceError,
  ConfigError,
  ErrorCodes,
  RpcRemoteError,
  RpcTimeout,
  ServiceError,
} from "../../common/errors";
import type { Logger } from "../../common/logger";
import { outgoingContext, runAsSender, type WireContext } from "./context";
import type { Bus, CallOptions, Envelope, Reply, RpcArgs, RpcHandlers } from "./types";
import { DEFAULT_CALL_TIMEOUT_MS } from "./types";

/** RabbitMQ's direct reply-to pseudo-queue: no reply queue to declare or clean up per caller. */
const REPLY_TO = "amq.rabbitmq.reply-to";
const CONTENT_TYPE = "application/json";
/** Sends of one cast cut short by the loss of the connection before it is given up (see publish). */
const MAX_SEND_ATTEMPTS = 3;

export interface AmqpBusDeps {
  logger: Logger;
  /** Unacknowledged messages per served topic, i.e. how many handlers of one topic may run at once. */
  prefetch?: number;
  /** How long close() waits for running handlers; messages of those still running are redelivered. */
  drainTimeoutMs?: number;
  /**
   * How long a cast or serve (and a call, within its own deadline) waits for the broker while the bus
   * is reconnecting before it fails with BusUnavailable, a 503 at the API. Default 30 s.
   */
  connectWaitMs?: number;
  /**
   * Reconnect backoff in ms: the first delay and the cap (defaults 250 and 30,000); the delay
   * doubles with each failed attempt, spread ±25 % so that every process does not redial at once.
   */
  reconnectDelayMs?: { initial: number; max: number };
}

/**
 * One broker connection and everything the bus built on it. Each reconnect builds a new one; a
 * dead link is never used again, in particular never to settle a message it delivered (delivery
 * tags belong to their channel: the broker has requeued those messages already).
 */
interface Link {
  readonly conn: ChannelModel;
  readonly pub: ConfirmChannel;
  readonly sub: Channel;
  /** The consumer of each served topic on this link (its tag once the broker has it). */
  readonly consumers: Map<Served, Promise<string>>;
  dead: boolean;
}

/** One serve(): consumed again on every new link until close(). */
interface Served {
  topic: string;
  handlers: RpcHandlers;
}

interface PendingCall {
  /** Settles the call with its reply, or with the error that means none will come. */
  settle: (outcome: Reply | Error) => void;
  /** The link the request went out on: the reply can only come back on its reply consumer. */
  link?: Link;
}

/**
 * RabbitMQ bus. Each topic is a durable queue of that name fed through the default exchange with
 * persistent messages, so work survives a broker restart and waits for a worker that is not up yet.
 * Publishing and consuming use separate channels so that a handler's own casts and calls (and their
 * replies) never queue behind the consumer's prefetch window.
 *
 * A lost connection or channel is routine (a broker restart or failover closes every client's
 * connection): amqplib's recovery redials with capped exponential backoff and jitter, and setup()
 * re-creates both channels, the direct reply-to consumer, and every served topic's queue and
 * consumer on the new connection. Meanwhile casts, calls and serves wait for it (bounded by
 * `connectWaitMs`) and then fail with BusUnavailable; calls whose reply was due on the lost
 * connection fail with it at once; handlers still running finish, but their messages are left
 * unacknowledged for the broker to deliver again; isConnected() is false (the heartbeat stops).
 */
export class AmqpBus implements Bus {
  private readonly pending = new Map<string, PendingCall>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly served = new Set<Served>();
  /** Wakes everything waiting in ready(): on a new link, or on close. */
  private readonly waiters = new Set<() => void>();
  private link: Link | undefined;
  private connectedOnce = false;
  /** Since when and why the bus has had no link (undefined while connected). */
  private outage: { since: number; reason: string } | undefined = {
    since: Date.now(),
    reason: "not connected yet",
  };
  private lastConnError: Error | undefined;
  private state: "open" | "draining" | "closed" = "open";
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly model: RecoveringChannelModel,
    private readonly log: Logger,
    private readonly opts: { prefetch: number; drainTimeoutMs: number; connectWaitMs: number },
  ) {
    // Connection errors arrive here (and just before each close); without a listener they would crash.
    model.on("error", (err: Error) => {
      this.lastConnError = err;
    });
    model.on("connect-failed", (err: Error) => {
      if (this.connectedOnce) {
        this.log.warn({ err, downMs: this.downMs() }, "could not reconnect to the message broker");
      }
    });
    model.on("reconnect-scheduled", ({ attempt, delay }: { attempt: number; delay: number }) =>
      this.log.info({ attempt, delayMs: delay, downMs: this.downMs() }, "reconnecting to the message broker"),
    );
    model.on("blocked", (reason: string) => log.warn({ reason }, "broker blocked publishing; casts wait"));
    model.on("unblocked", () => log.info("broker unblocked publishing"));
  }

  static async connect(url: string, deps: AmqpBusDeps): Promise<AmqpBus> {
    const amqpUrl = toAmqpUrl(url);
    const log = deps.logger.child({ component: "amqp-bus", broker: redact(amqpUrl) });
    const delays = deps.reconnectDelayMs ?? { initial: 250, max: 30_000 };
    // Assigned once the recovering connection exists, before amqplib's deferred first attempt.
    const ref: { bus?: AmqpBus } = {};
    // The first connection gets no retry: a process that cannot reach its broker at start fails
    // (its supervisor restarts it) rather than running deaf. Every later loss is retried forever.
    const model = await connect(amqpUrl, {
      timeout: 10_000,
      clientProperties: { connection_name: `vms-${process.pid}` },
      recovery: {
        waitForConnect: false,
        initialMaxRetries: 0,
        maxRetries: Infinity,
        initialDelay: delays.initial,
        maxDelay: delays.max,
        factor: 2,
        jitter: 0.25,
        // Runs on every (re)connect.
        setup: async (conn: ChannelModel): Promise<void> => {
          if (!ref.bus) {
            throw new Error("AMQP bus not constructed yet");
          }
          await ref.bus.setup(conn);
        },
      },
    });
    const bus = new AmqpBus(model, log, {
      prefetch: deps.prefetch ?? 16,
      drainTimeoutMs: deps.drainTimeoutMs ?? 10_000,
      connectWaitMs: deps.connectWaitMs ?? 30_000,
    });
    ref.bus = bus;
    try {
      await model.waitForConnect();
    } catch (e) {
      await model.close().catch(() => undefined);
      throw e;
    }
    log.info("connected to the message broker");
    return bus;
  }

  isConnected(): boolean {
    return this.link !== undefined && this.state !== "closed";
  }

  async cast(topic: string, method: string, args: RpcArgs): Promise<void> {
    const envelope = { method, args, context: outgoingContext() };
    await this.publish(topic, envelope, {}, Date.now() + this.opts.connectWaitMs);
  }

  call<T>(topic: string, method: string, args: RpcArgs, opts: CallOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const correlationId = randomUUID();
    return new Promise<T>((resolve, reject) => {
      const entry: PendingCall = {
        settle: (outcome) => {
          clearTimeout(timer);
          this.pending.delete(correlationId);
          if (outcome instanceof Error) {
            reject(outcome);
          } else if (outcome.ok) {
            resolve(outcome.result as T);
          } else {
            reject(new RpcRemoteError(outcome.code, outcome.message));
          }
        },
      };
      const timer = setTimeout(() => entry.settle(new RpcTimeout(topic, method, timeoutMs)), timeoutMs);
      this.pending.set(correlationId, entry);
      const deadline = Date.now() + timeoutMs;
      const send = {
        deadline,
        // A call that has already settled (timed out) while waiting for the broker is not sent.
        bind: (link: Link): boolean => {
          if (this.pending.get(correlationId) !== entry) {
            return false;
          }
          entry.link = link;
          return true;
        },
      };
      const waitUntil = Math.min(deadline, Date.now() + this.opts.connectWaitMs);
      const envelope = { method, args, context: outgoingContext() };
      this.publish(topic, envelope, { replyTo: REPLY_TO, correlationId }, waitUntil, send).catch(
        (e: unknown) =>
          this.pending
            .get(correlationId)
            // Waited for the broker until the call's own deadline: that is the call timing out (the
            // wait and the reply timer end together, and either may fire first).
            ?.settle(
              e instanceof BusUnavailable && waitUntil === deadline
                ? new RpcTimeout(topic, method, timeoutMs)
                : coerceError(e),
            ),
      );
    });
  }

  async serve(topic: string, handlers: RpcHandlers): Promise<void> {
    if (this.state !== "open") {
      throw new Error(this.state === "closed" ? "AMQP bus is closed" : "AMQP bus is closing");
    }
    const served: Served = { topic, handlers };
    // From now on every new link consumes the topic, whether or not this first subscribe succeeds.
    this.served.add(served);
    const waitUntil = Date.now() + this.opts.connectWaitMs;
    try {
      for (let attempt = 1; ; attempt++) {
        const link = await this.ready(waitUntil);
        try {
          await this.subscribe(link, served);
          return;
        } catch (e) {
          if (!(await this.diedUnder(link)) || attempt >= MAX_SEND_ATTEMPTS) {
            throw link.dead ? new BusUnavailable("the broker connection was lost", { cause: e }) : e;
          }
        }
      }
    } catch (e) {
      this.served.delete(served);
      throw e;
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // Publishing stays possible while draining: a running handler may still need to cast or call.
    this.state = "draining";
    const served = [...this.served];
    this.served.clear();
    const link = this.link;
    for (const s of served) {
      const tag = link?.consumers.get(s);
      await tag?.then((t) => link!.sub.cancel(t)).catch(() => undefined);
    }
    if (!(await settleWithin([...this.inFlight], this.opts.drainTimeoutMs))) {
      this.log.warn(
        { running: this.inFlight.size },
        "handlers still running at close; the broker redelivers",
      );
    }
    this.state = "closed";
    for (const wake of [...this.waiters]) {
      wake();
    }
    for (const p of [...this.pending.values()]) {
      p.settle(new Error("AMQP bus closed before the reply arrived"));
    }
    const last = this.link;
    this.link = undefined;
    if (last) {
      last.dead = true;
      await last.sub.close().catch(() => undefined);
      await last.pub.close().catch(() => undefined);
    }
    // Also stops a reconnect that is waiting or under way.
    await this.model.close().catch(() => undefined);
  }

  /** amqplib's recovery calls this on every new connection: the bus's whole topology, again. */
  private async setup(conn: ChannelModel): Promise<void> {
    conn.on("error", (err: Error) => {
      this.lastConnError = err;
    });
    const pub = await conn.createConfirmChannel();
    pub.on("error", (err: Error) => this.log.error({ err }, "AMQP publish channel error"));
    const sub = await conn.createChannel();
    sub.on("error", (err: Error) => this.log.error({ err }, "AMQP consume channel error"));
    const link: Link = { conn, pub, sub, consumers: new Map(), dead: false };
    conn.on("close", (err?: Error) => this.lost(link, "connection closed", err));
    // A closing connection closes its channels first: handled a turn later, the connection's own
    // close (and its reason) is what gets reported.
    pub.on("close", () => setImmediate(() => this.lost(link, "publish channel closed")));
    sub.on("close", () => setImmediate(() => this.lost(link, "consume channel closed")));
    await sub.prefetch(this.opts.prefetch);
    // The broker refuses a publish with a direct reply-to address unless this consumer exists.
    await pub.consume(REPLY_TO, (msg) => this.onReply(link, msg), { noAck: true });
    if (this.state === "open") {
      // A Set's iteration also visits what serve() adds meanwhile.
      for (const s of this.served) {
        await this.subscribe(link, s);
      }
    }
    if (link.dead || this.state === "closed") {
      // amqplib closes the connection and schedules the next attempt.
      throw new Error("the broker connection closed while it was being set up");
    }
    const outage = this.outage;
    this.link = link;
    this.outage = undefined;
    this.lastConnError = undefined;
    if (this.connectedOnce && outage) {
      this.log.info(
        {
          downMs: Date.now() - outage.since,
          lost: outage.reason,
          topics: [...link.consumers.keys()].map((s) => s.topic),
        },
        "reconnected to the message broker; channels, queues and consumers re-created",
      );
    }
    this.connectedOnce = true;
    for (const wake of [...this.waiters]) {
      wake();
    }
  }

  /** Declares the topic's queue and consumes it on LINK, once per link. */
  private subscribe(link: Link, s: Served): Promise<string> {
    let tag = link.consumers.get(s);
    if (!tag) {
      tag = (async () => {
        await link.sub.assertQueue(s.topic, { durable: true });
        const { consumerTag } = await link.sub.consume(s.topic, (msg) => this.onDelivery(link, s, msg));
        return consumerTag;
      })();
      link.consumers.set(s, tag);
    }
    return tag;
  }

  private onDelivery(link: Link, s: Served, msg: ConsumeMessage | null): void {
    if (!msg) {
      // The queue was deleted under us: a new link declares it again.
      this.lost(link, `consumer of ${s.topic} cancelled by the broker`);
      return;
    }
    const run = this.handle(link, s.topic, s.handlers, msg).catch((e: unknown) =>
      this.log.error({ err: coerceError(e), topic: s.topic }, "message handling failed unexpectedly"),
    );
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  /** Waits for a live link until `waitUntil` at most. */
  private async ready(waitUntil: number): Promise<Link> {
    const started = Date.now();
    for (;;) {
      if (this.state === "closed") {
        throw new Error("AMQP bus is closed");
      }
      if (this.link) {
        return this.link;
      }
      const left = waitUntil - Date.now();
      if (left <= 0) {
        const since = this.outage?.reason ?? "lost";
        const reason = `no broker connection (${since}), not back within ${Date.now() - started} ms`;
        throw new BusUnavailable(reason, { cause: this.lastConnError });
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  /**
   * Publishes with a broker confirm on the live link, waiting for one until `waitUntil`. A call
   * passes `send`: its request expires with its deadline, `bind` ties it to the link it goes out on
   * (and cancels it when the call has settled meanwhile), and it is never sent twice. A cast cut
   * short by the loss of its link goes out again on the next one: whether the broker took the first
   * copy is unknown, and handlers are idempotent (at-least-once delivery).
   */
  private async publish(
    topic: string,
    envelope: Envelope,
    props: Options.Publish,
    waitUntil: number,
    send?: { deadline: number; bind(link: Link): boolean },
  ): Promise<void> {
    const body = Buffer.from(JSON.stringify(envelope));
    for (let attempt = 1; ; attempt++) {
      const link = await this.ready(waitUntil);
      if (send && !send.bind(link)) {
        return;
      }
      try {
        // Declared on every publish rather than cached: a message for a queue that does not exist
        // (never served yet, or deleted since) would be confirmed by the broker and silently dropped.
        await link.pub.assertQueue(topic, { durable: true });
        // A call expires with its caller's deadline: a worker that comes up later must not act on a
        // request whose caller has already given up (and may have retried).
        const expiration = send && String(Math.max(1, send.deadline - Date.now()));
        await new Promise<void>((resolve, reject) => {
          const opts = { ...props, expiration, persistent: true, contentType: CONTENT_TYPE };
          link.pub.sendToQueue(topic, body, opts, (err: unknown) =>
            err ? reject(coerceError(err)) : resolve(),
          );
        });
        return;
      } catch (e) {
        if (!(await this.diedUnder(link))) {
          throw e;
        }
        if (send || attempt >= MAX_SEND_ATTEMPTS) {
          throw new BusUnavailable("the broker connection was lost while sending", { cause: e });
        }
        this.log.warn(
          { topic, method: envelope.method, attempt },
          "broker connection lost while casting; sending again once reconnected",
        );
      }
    }
  }

  /** After an operation on LINK failed: whether the link died (its close events come a tick later). */
  private async diedUnder(link: Link): Promise<boolean> {
    await new Promise((resolve) => setImmediate(resolve));
    return link.dead;
  }

  /** Handles one delivery under the request ids its sender worked under (context.ts). */
  private handle(link: Link, topic: string, handlers: RpcHandlers, msg: ConsumeMessage): Promise<void> {
    const envelope = parseEnvelope(msg.content);
    return runAsSender(envelope?.context, () => this.handleEnvelope(link, topic, handlers, msg, envelope));
  }

  private async handleEnvelope(
    link: Link,
    topic: string,
    handlers: RpcHandlers,
    msg: ConsumeMessage,
    envelope: Envelope | undefined,
  ): Promise<void> {
    const replyTo = nonEmptyString(msg.properties.replyTo);
    const method = envelope?.method;
    const handler =
      envelope && Object.hasOwn(handlers, envelope.method) ? handlers[envelope.method] : undefined;
    let reply: Reply;
    let requeue = false;
    if (!envelope || !handler) {
      this.log.error({ topic, method }, "no handler for message; dropped");
      const message = envelope ? `No such method: ${envelope.method}` : "Malformed message";
      reply = { ok: false, code: ErrorCodes.VMS_ERR_INTERNAL, message };
    } else {
      try {
        const result = await handler(envelope.args);
        // Round-tripped here, as MemoryBus does, so a result JSON cannot carry (a BigInt, a cycle)
        // becomes this handler's error instead of a reply that never gets sent.
        reply = {
          ok: true,
          result: result === undefined ? null : (JSON.parse(JSON.stringify(result)) as unknown),
        };
      } catch (e) {
        const err = coerceError(e);
        const known = err instanceof ServiceError;
        // A ServiceError is a deliberate refusal a retry would repeat; anything else may be transient,
        // so a cast gets exactly one more delivery (not more: a message that always crashes its handler
        // must not loop). A call is never retried: its caller sees the error and decides.
        const redelivered = msg.fields.redelivered;
        requeue = replyTo === undefined && !known && !redelivered;
        this.log.error({ err, topic, method, redelivered, requeue }, "rpc handler failed");
        reply = { ok: false, code: known ? err.code : ErrorCodes.VMS_ERR_INTERNAL, message: err.message };
      }
    }
    if (link.dead) {
      // Its delivery tag means nothing on a new channel; the broker has requeued the message.
      this.log.warn(
        { topic, method },
        "handler finished after its broker connection was lost; the broker redelivers",
      );
      return;
    }
    try {
      if (replyTo !== undefined) {
        const correlationId = nonEmptyString(msg.properties.correlationId);
        link.sub.sendToQueue(replyTo, Buffer.from(JSON.stringify(reply)), {
          correlationId,
          contentType: CONTENT_TYPE,
        });
      }
      if (requeue) {
        link.sub.nack(msg, false, true);
      } else {
        link.sub.ack(msg);
      }
    } catch (e) {
      // Only a dead channel gets here, and the broker has already requeued the unacked message.
      this.log.warn(
        { err: coerceError(e), topic, method },
        "could not settle message; it will be redelivered",
      );
    }
  }

  private onReply(link: Link, msg: ConsumeMessage | null): void {
    if (!msg) {
      this.lost(link, "reply consumer cancelled by the broker");
      return;
    }
    const id = nonEmptyString(msg.properties.correlationId);
    const call = id === undefined ? undefined : this.pending.get(id);
    if (!call) {
      // Normal after a timeout: the handler finished after its caller stopped waiting.
      this.log.warn({ correlationId: id }, "reply to an unknown or timed-out call; dropped");
      return;
    }
    call.settle(parseReply(msg.content));
  }

  /** Any part of LINK closed: drop it, fail the calls whose replies went with it, let recovery redial. */
  private lost(link: Link, what: string, err?: Error): void {
    if (link.dead) {
      return;
    }
    link.dead = true;
    if (this.link !== link) {
      // A link still being set up: setup() fails and amqplib tries again.
      return;
    }
    this.link = undefined;
    this.outage = { since: Date.now(), reason: what };
    const cause = err ?? this.lastConnError;
    const calls = [...this.pending.values()].filter((p) => p.link === link);
    this.log.error(
      { err: cause, pendingCalls: calls.length, runningHandlers: this.inFlight.size },
      `lost the message broker (${what}); reconnecting, casts wait up to ${this.opts.connectWaitMs} ms`,
    );
    for (const p of calls) {
      p.settle(new BusUnavailable("the broker connection was lost before the reply arrived", { cause }));
    }
    // A channel lost on its own takes its connection down too, so that recovery rebuilds all of it.
    void link.conn.close().catch(() => undefined);
  }

  private downMs(): number | undefined {
    return this.outage && Date.now() - this.outage.since;
  }
}

/** oslo.messaging's `rabbit://` transport URLs name the same broker; amqplib only speaks `amqp(s)://`. */
export function toAmqpUrl(transportUrl: string): string {
  const m = /^(?:rabbit|amqp)(s?):\/\/([^/?#]*)(.*)$/is.exec(transportUrl);
  if (!m) {
    throw new ConfigError(`Unsupported message bus URL: ${redact(transportUrl)}`);
  }
  // oslo allows `user:pass@host1:5672,user:pass@host2:5672`; without failover only the first is used.
  const [, tls = "", hosts = "", rest = ""] = m;
  return `amqp${tls}://${hosts.split(",")[0] ?? ""}${rest}`;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function parseJson(content: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(content.toString("utf8"));
    return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function parseEnvelope(content: Buffer): Envelope | undefined {
  const v = parseJson(content);
  const args = v?.["args"];
  const valid = typeof v?.["method"] === "string" && typeof args === "object" && args !== null;
  // The context is checked where it is used (runAsSender); a malformed one only loses the ids.
  return valid
    ? { method: String(v["method"]), args: args as RpcArgs, context: v["context"] as WireContext }
    : undefined;
}

function parseReply(content: Buffer): Reply {
  const v = parseJson(content);
  if (v?.["ok"] === true || (v?.["ok"] === false && typeof v["code"] === "string")) {
    return v as Reply;
  }
  return { ok: false, code: ErrorCodes.VMS_ERR_INTERNAL, message: "Malformed reply" };
}

async function settleWithin(promises: Promise<unknown>[], ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([Promise.allSettled(promises).then(() => true as const), expired]);
  } finally {
    clearTimeout(timer);
  }
}
