import { randomUUID } from "node:crypto";

import type { ConsumeMessage, Options } from "amqplib";

import { BusUnavailable, coerceError, RpcRemoteError, RpcTimeout } from "../../common/errors";
import type { Logger } from "../../common/logger";
import { type Link, LinkKeeper, MAX_LINK_ATTEMPTS } from "./amqpLink";
import { TopicConsumers } from "./amqpServe";
import { CONTENT_TYPE, nonEmptyString, parseReply, redact, REPLY_TO, toAmqpUrl } from "./amqpWire";
import { outgoingContext } from "./context";
import type { Bus, CallOptions, Envelope, Reply, RpcArgs, RpcHandlers } from "./types";
import { DEFAULT_CALL_TIMEOUT_MS } from "./types";

export { toAmqpUrl } from "./amqpWire";

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
 * connection): amqplib's recovery redials with capped exponential backoff and jitter (amqpLink.ts),
 * and each new connection gets both channels, the direct reply-to consumer, and every served
 * topic's queue and consumer again (build). Meanwhile casts, calls and serves wait for it (bounded by
 * `connectWaitMs`) and then fail with BusUnavailable; calls whose reply was due on the lost
 * connection fail with it at once; handlers still running finish, but their messages are left
 * unacknowledged for the broker to deliver again; isConnected() is false (the heartbeat stops).
 */
export class AmqpBus implements Bus {
  private readonly pending = new Map<string, PendingCall>();
  private readonly consumers: TopicConsumers;
  private state: "open" | "draining" | "closed" = "open";
  private closing: Promise<void> | undefined;
  private links!: LinkKeeper;

  private constructor(
    private readonly log: Logger,
    private readonly opts: { drainTimeoutMs: number; connectWaitMs: number },
  ) {
    this.consumers = new TopicConsumers(log, () => this.links);
  }

  static async connect(url: string, deps: AmqpBusDeps): Promise<AmqpBus> {
    const amqpUrl = toAmqpUrl(url);
    const log = deps.logger.child({ component: "amqp-bus", broker: redact(amqpUrl) });
    const bus = new AmqpBus(log, {
      drainTimeoutMs: deps.drainTimeoutMs ?? 10_000,
      connectWaitMs: deps.connectWaitMs ?? 30_000,
    });
    bus.links = await LinkKeeper.open(
      amqpUrl,
      {
        logger: log,
        prefetch: deps.prefetch ?? 16,
        reconnectDelayMs: deps.reconnectDelayMs ?? { initial: 250, max: 30_000 },
      },
      {
        build: (link) => bus.build(link),
        lost: (link, what, cause) => bus.lost(link, what, cause),
        closed: () => bus.state === "closed",
      },
    );
    log.info("connected to the message broker");
    return bus;
  }

  isConnected(): boolean {
    return this.links.current() !== undefined && this.state !== "closed";
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
    await this.consumers.serve(topic, handlers, Date.now() + this.opts.connectWaitMs);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // Publishing stays possible while draining: a running handler may still need to cast or call.
    this.state = "draining";
    if (!(await this.consumers.stop(this.opts.drainTimeoutMs))) {
      this.log.warn(
        { running: this.consumers.running },
        "handlers still running at close; the broker redelivers",
      );
    }
    this.state = "closed";
    this.links.wakeAll();
    for (const p of [...this.pending.values()]) {
      p.settle(new Error("AMQP bus closed before the reply arrived"));
    }
    await this.links.close();
  }

  /** The bus's part of a new link (LinkKeeper.setup): the reply consumer and the served topics. */
  private async build(link: Link): Promise<void> {
    // The broker refuses a publish with a direct reply-to address unless this consumer exists.
    await link.pub.consume(REPLY_TO, (msg) => this.onReply(link, msg), { noAck: true });
    if (this.state === "open") {
      await this.consumers.subscribeAll(link);
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
      const link = await this.links.ready(waitUntil);
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
        if (!(await this.links.diedUnder(link))) {
          throw e;
        }
        if (send || attempt >= MAX_LINK_ATTEMPTS) {
          throw new BusUnavailable("the broker connection was lost while sending", { cause: e });
        }
        this.log.warn(
          { topic, method: envelope.method, attempt },
          "broker connection lost while casting; sending again once reconnected",
        );
      }
    }
  }

  private onReply(link: Link, msg: ConsumeMessage | null): void {
    if (!msg) {
      this.links.lost(link, "reply consumer cancelled by the broker");
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

  /** The live link was lost (LinkKeeper.lost): the calls whose replies went with it fail now. */
  private lost(link: Link, what: string, cause: Error | undefined): void {
    const calls = [...this.pending.values()].filter((p) => p.link === link);
    this.log.error(
      { err: cause, pendingCalls: calls.length, runningHandlers: this.consumers.running },
      `lost the message broker (${what}); reconnecting, casts wait up to ${this.opts.connectWaitMs} ms`,
    );
    for (const p of calls) {
      p.settle(new BusUnavailable("the broker connection was lost before the reply arrived", { cause }));
    }
  }
}
