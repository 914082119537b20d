import { randomUUID } from "node:crypto";

import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from "amqplib";
import { connect } from "amqplib";

import {
  coerceError,
  ConfigError,
  ErrorCodes,
  RpcRemoteError,
  RpcTimeout,
  ServiceError,
} from "../../common/errors";
import type { Logger } from "../../common/logger";
import type { Bus, CallOptions, Envelope, Reply, RpcArgs, RpcHandlers } from "./types";
import { DEFAULT_CALL_TIMEOUT_MS } from "./types";

/** RabbitMQ's direct reply-to pseudo-queue: no reply queue to declare or clean up per caller. */
const REPLY_TO = "amq.rabbitmq.reply-to";
const CONTENT_TYPE = "application/json";

export interface AmqpBusDeps {
  logger: Logger;
  /** Unacknowledged messages per served topic, i.e. how many handlers of one topic may run at once. */
  prefetch?: number;
  /** How long close() waits for running handlers; messages of those still running are redelivered. */
  drainTimeoutMs?: number;
}

/** Settles one outstanding call with its reply, or with the error that means none will come. */
type PendingCall = (outcome: Reply | Error) => void;

/**
 * RabbitMQ bus. Each topic is a durable queue of that name fed through the default exchange with
 * persistent messages, so work survives a broker restart and waits for a worker that is not up yet.
 * Publishing and consuming use separate channels so that a handler's own casts and calls (and their
 * replies) never queue behind the consumer's prefetch window.
 */
export class AmqpBus implements Bus {
  private readonly pending = new Map<string, PendingCall>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly consumerTags: string[] = [];
  private state: "open" | "draining" | "closed" = "open";
  private failure: string | undefined;
  private lastConnError: Error | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly conn: ChannelModel,
    private readonly pub: ConfirmChannel,
    private readonly sub: Channel,
    private readonly log: Logger,
    private readonly drainTimeoutMs: number,
  ) {
    conn.on("error", (err: Error) => {
      this.lastConnError = err;
    });
    conn.on("close", () => this.lost("connection closed"));
    conn.on("blocked", (reason: string) => log.warn({ reason }, "broker blocked publishing; casts wait"));
    conn.on("unblocked", () => log.info("broker unblocked publishing"));
    pub.on("close", () => this.lost("publish channel closed"));
    sub.on("close", () => this.lost("consume channel closed"));
  }

  static async connect(url: string, deps: AmqpBusDeps): Promise<AmqpBus> {
    const amqpUrl = toAmqpUrl(url);
    const log = deps.logger.child({ component: "amqp-bus", broker: redact(amqpUrl) });
    const conn = await connect(amqpUrl, {
      timeout: 10_000,
      clientProperties: { connection_name: `vms-${process.pid}` },
    });
    // An 'error' event without a listener would crash the process; listen before anything can fail.
    conn.on("error", (err: Error) => log.error({ err }, "AMQP connection error"));
    try {
      const pub = await conn.createConfirmChannel();
      pub.on("error", (err: Error) => log.error({ err }, "AMQP publish channel error"));
      const sub = await conn.createChannel();
      sub.on("error", (err: Error) => log.error({ err }, "AMQP consume channel error"));
      await sub.prefetch(deps.prefetch ?? 16);
      const bus = new AmqpBus(conn, pub, sub, log, deps.drainTimeoutMs ?? 10_000);
      // The broker refuses a publish with a direct reply-to address unless this consumer exists.
      await pub.consume(REPLY_TO, (msg) => bus.onReply(msg), { noAck: true });
      log.info("connected to the message broker");
      return bus;
    } catch (e) {
      await conn.close().catch(() => undefined);
      throw e;
    }
  }

  async cast(topic: string, method: string, args: RpcArgs): Promise<void> {
    await this.publish(topic, { method, args }, {});
  }

  call<T>(topic: string, method: string, args: RpcArgs, opts: CallOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const correlationId = randomUUID();
    return new Promise<T>((resolve, reject) => {
      const finish = (outcome: Reply | Error): void => {
        clearTimeout(timer);
        this.pending.delete(correlationId);
        if (outcome instanceof Error) {
          reject(outcome);
        } else if (outcome.ok) {
          resolve(outcome.result as T);
        } else {
          reject(new RpcRemoteError(outcome.code, outcome.message));
        }
      };
      const timer = setTimeout(() => finish(new RpcTimeout(topic, method, timeoutMs)), timeoutMs);
      this.pending.set(correlationId, finish);
      const deadline = Date.now() + timeoutMs;
      this.publish(topic, { method, args }, { replyTo: REPLY_TO, correlationId }, deadline).catch(
        (e: unknown) => this.pending.get(correlationId)?.(coerceError(e)),
      );
    });
  }

  async serve(topic: string, handlers: RpcHandlers): Promise<void> {
    this.assertUsable();
    if (this.state !== "open") {
      throw new Error("AMQP bus is closing");
    }
    await this.sub.assertQueue(topic, { durable: true });
    const { consumerTag } = await this.sub.consume(topic, (msg) => {
      if (!msg) {
        this.log.error({ topic }, "broker cancelled the consumer (queue deleted?); topic no longer served");
        return;
      }
      const run = this.handle(topic, handlers, msg).catch((e: unknown) =>
        this.log.error({ err: coerceError(e), topic }, "message handling failed unexpectedly"),
      );
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    });
    this.consumerTags.push(consumerTag);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // Publishing stays possible while draining: a running handler may still need to cast or call.
    this.state = "draining";
    for (const tag of this.consumerTags.splice(0)) {
      await this.sub.cancel(tag).catch(() => undefined);
    }
    if (!(await settleWithin([...this.inFlight], this.drainTimeoutMs))) {
      this.log.warn(
        { running: this.inFlight.size },
        "handlers still running at close; the broker redelivers",
      );
    }
    this.state = "closed";
    for (const p of [...this.pending.values()]) {
      p(new Error("AMQP bus closed before the reply arrived"));
    }
    await this.sub.close().catch(() => undefined);
    await this.pub.close().catch(() => undefined);
    await this.conn.close().catch(() => undefined);
  }

  private async publish(
    topic: string,
    envelope: Envelope,
    props: Options.Publish,
    deadline?: number,
  ): Promise<void> {
    this.assertUsable();
    const body = Buffer.from(JSON.stringify(envelope));
    try {
      // Declared on every publish rather than cached: a message for a queue that does not exist
      // (never served yet, or deleted since) would be confirmed by the broker and silently dropped.
      await this.pub.assertQueue(topic, { durable: true });
      // A call expires with its caller's deadline: a worker that comes up later must not act on a
      // request whose caller has already given up (and may have retried).
      const expiration = deadline === undefined ? undefined : String(Math.max(1, deadline - Date.now()));
      await new Promise<void>((resolve, reject) => {
        const opts = { ...props, expiration, persistent: true, contentType: CONTENT_TYPE };
        this.pub.sendToQueue(topic, body, opts, (err: unknown) =>
          err ? reject(coerceError(err)) : resolve(),
        );
      });
    } catch (e) {
      throw this.failure !== undefined ? this.unavailable(e) : e;
    }
  }

  private async handle(topic: string, handlers: RpcHandlers, msg: ConsumeMessage): Promise<void> {
    const replyTo = nonEmptyString(msg.properties.replyTo);
    const envelope = parseEnvelope(msg.content);
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
    try {
      if (replyTo !== undefined) {
        const correlationId = nonEmptyString(msg.properties.correlationId);
        this.sub.sendToQueue(replyTo, Buffer.from(JSON.stringify(reply)), {
          correlationId,
          contentType: CONTENT_TYPE,
        });
      }
      if (requeue) {
        this.sub.nack(msg, false, true);
      } else {
        this.sub.ack(msg);
      }
    } catch (e) {
      // Only a dead channel gets here, and the broker has already requeued the unacked message.
      this.log.warn(
        { err: coerceError(e), topic, method },
        "could not settle message; it will be redelivered",
      );
    }
  }

  private onReply(msg: ConsumeMessage | null): void {
    if (!msg) {
      this.lost("reply consumer cancelled by the broker");
      return;
    }
    const id = nonEmptyString(msg.properties.correlationId);
    const call = id === undefined ? undefined : this.pending.get(id);
    if (!call) {
      // Normal after a timeout: the handler finished after its caller stopped waiting.
      this.log.warn({ correlationId: id }, "reply to an unknown or timed-out call; dropped");
      return;
    }
    call(parseReply(msg.content));
  }

  private lost(what: string): void {
    if (this.state === "closed" || this.failure !== undefined) {
      return;
    }
    const cause = this.lastConnError ? `: ${this.lastConnError.message}` : "";
    this.failure = `${what} unexpectedly${cause}`;
    this.log.error(`AMQP ${this.failure}; the bus is unusable until the service restarts`);
    for (const p of [...this.pending.values()]) {
      p(this.unavailable());
    }
  }

  private assertUsable(): void {
    if (this.failure !== undefined) {
      throw this.unavailable();
    }
    if (this.state === "closed") {
      throw new Error("AMQP bus is closed");
    }
  }

  private unavailable(cause?: unknown): Error {
    return new Error(`AMQP bus unavailable: ${this.failure ?? "unknown failure"}`, { cause });
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
  return valid ? { method: String(v["method"]), args: args as RpcArgs } : undefined;
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
