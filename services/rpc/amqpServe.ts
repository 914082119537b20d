/**
 * The AMQP bus's consuming half: each served topic's durable queue consumed on every link
 * (amqpLink.ts), each delivery handled under its sender's request ids, answered when the sender
 * waits for a reply, and acknowledged, or requeued once for a cast whose handler failed
 * unexpectedly, on the channel it came from (never on a later link: the broker has requeued it).
 */
import type { ConsumeMessage } from "amqplib";

import { BusUnavailable, coerceError } from "../../common/errors";
import type { Logger } from "../../common/logger";
import { type Link, type LinkKeeper, MAX_LINK_ATTEMPTS, type Served } from "./amqpLink";
import { answer, CONTENT_TYPE, nonEmptyString, parseEnvelope, settleWithin } from "./amqpWire";
import { runAsSender } from "./context";
import type { Envelope, RpcHandlers } from "./types";

export class TopicConsumers {
  private readonly served = new Set<Served>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly log: Logger,
    /** The bus's links (assigned once the first connection is up, before any serve()). */
    private readonly links: () => LinkKeeper,
  ) {}

  /** Handlers running now. */
  get running(): number {
    return this.inFlight.size;
  }

  /**
   * Consumes TOPIC on the live link (waiting for one until `waitUntil`) and on every later one,
   * until stop().
   */
  async serve(topic: string, handlers: RpcHandlers, waitUntil: number): Promise<void> {
    const served: Served = { topic, handlers };
    // From now on every new link consumes the topic, whether or not this first subscribe succeeds.
    this.served.add(served);
    try {
      for (let attempt = 1; ; attempt++) {
        const link = await this.links().ready(waitUntil);
        try {
          await this.subscribe(link, served);
          return;
        } catch (e) {
          if (!(await this.links().diedUnder(link)) || attempt >= MAX_LINK_ATTEMPTS) {
            throw link.dead ? new BusUnavailable("the broker connection was lost", { cause: e }) : e;
          }
        }
      }
    } catch (e) {
      this.served.delete(served);
      throw e;
    }
  }

  /** On a new link: every served topic. A Set's iteration also visits what serve() adds meanwhile. */
  async subscribeAll(link: Link): Promise<void> {
    for (const s of this.served) {
      await this.subscribe(link, s);
    }
  }

  /**
   * Stops consuming (close): cancels the live link's consumers, then waits up to `ms` for the
   * handlers still running; false if some did not finish (their messages are redelivered).
   */
  async stop(ms: number): Promise<boolean> {
    const served = [...this.served];
    this.served.clear();
    const link = this.links().current();
    for (const s of served) {
      const tag = link?.consumers.get(s);
      await tag?.then((t) => link!.sub.cancel(t)).catch(() => undefined);
    }
    return settleWithin([...this.inFlight], ms);
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
      this.links().lost(link, `consumer of ${s.topic} cancelled by the broker`);
      return;
    }
    const run = this.handle(link, s.topic, s.handlers, msg).catch((e: unknown) =>
      this.log.error({ err: coerceError(e), topic: s.topic }, "message handling failed unexpectedly"),
    );
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  /** Handles one delivery under the request ids its sender worked under (context.ts). */
  private handle(link: Link, topic: string, handlers: RpcHandlers, msg: ConsumeMessage): Promise<void> {
    const envelope = parseEnvelope(msg.content);
    return runAsSender(envelope?.context, () => this.settle(link, topic, handlers, msg, envelope));
  }

  /** Runs the handler, then replies and acknowledges (or requeues) on the link it came from. */
  private async settle(
    link: Link,
    topic: string,
    handlers: RpcHandlers,
    msg: ConsumeMessage,
    envelope: Envelope | undefined,
  ): Promise<void> {
    const replyTo = nonEmptyString(msg.properties.replyTo);
    const method = envelope?.method;
    const redelivered = msg.fields.redelivered;
    const { reply, requeue, failure } = await answer(handlers, envelope, replyTo !== undefined, redelivered);
    if (failure === "no handler") {
      this.log.error({ topic, method }, "no handler for message; dropped");
    } else if (failure) {
      this.log.error({ err: failure, topic, method, redelivered, requeue }, "rpc handler failed");
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
}
