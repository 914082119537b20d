/**
 * The AMQP bus's connection to its broker: one link (connection, publish and consume channels) at
 * a time, redialled by amqplib's recovery with capped exponential backoff and jitter after every
 * loss, and waited for (bounded) by whoever needs it. What runs on a link (the reply consumer, the
 * served topics, the calls waiting on it) is the bus's (amqp.ts), through LinkHooks.
 */
import type { Channel, ChannelModel, ConfirmChannel, RecoveringChannelModel } from "amqplib";
import { connect } from "amqplib";

import { BusUnavailable } from "../../common/errors";
import type { Logger } from "../../common/logger";
import type { RpcHandlers } from "./types";

/** How many links one operation (a cast's send, a serve's subscribe) is tried on before it fails. */
export const MAX_LINK_ATTEMPTS = 3;

/** One serve(): consumed again on every new link until close(). */
export interface Served {
  topic: string;
  handlers: RpcHandlers;
}

/**
 * One broker connection and everything the bus built on it. Each reconnect builds a new one; a
 * dead link is never used again, in particular never to settle a message it delivered (delivery
 * tags belong to their channel: the broker has requeued those messages already).
 */
export interface Link {
  readonly conn: ChannelModel;
  readonly pub: ConfirmChannel;
  readonly sub: Channel;
  /** The consumer of each served topic on this link (its tag once the broker has it). */
  readonly consumers: Map<Served, Promise<string>>;
  dead: boolean;
}

export interface LinkHooks {
  /** Builds the bus's part on a new link before anything uses it; throwing makes amqplib redial. */
  build(link: Link): Promise<void>;
  /** The live link was lost (`cause`: the connection's error, when there was one). */
  lost(link: Link, what: string, cause: Error | undefined): void;
  /** The bus is closed: nothing waits for a link any more. */
  closed(): boolean;
}

export interface LinkOptions {
  logger: Logger;
  prefetch: number;
  /** The first delay and the cap of the redial backoff, in ms. */
  reconnectDelayMs: { initial: number; max: number };
}

export class LinkKeeper {
  private link: Link | undefined;
  private connectedOnce = false;
  /** Since when and why there has been no link (undefined while connected). */
  private outage: { since: number; reason: string } | undefined = {
    since: Date.now(),
    reason: "not connected yet",
  };
  private lastConnError: Error | undefined;
  /** Wakes everything waiting in ready(): on a new link, or on close. */
  private readonly waiters = new Set<() => void>();
  private model!: RecoveringChannelModel;

  private constructor(
    private readonly log: Logger,
    private readonly prefetch: number,
    private readonly hooks: LinkHooks,
  ) {}

  /**
   * The first connection gets no retry: a process that cannot reach its broker at start fails (its
   * supervisor restarts it) rather than running deaf. Every later loss is retried forever.
   */
  static async open(amqpUrl: string, o: LinkOptions, hooks: LinkHooks): Promise<LinkKeeper> {
    const keeper = new LinkKeeper(o.logger, o.prefetch, hooks);
    const model = await connect(amqpUrl, {
      timeout: 10_000,
      clientProperties: { connection_name: `vms-${process.pid}` },
      recovery: {
        waitForConnect: false,
        initialMaxRetries: 0,
        maxRetries: Infinity,
        initialDelay: o.reconnectDelayMs.initial,
        maxDelay: o.reconnectDelayMs.max,
        factor: 2,
        jitter: 0.25,
        // Runs on every (re)connect; amqplib's first attempt is deferred until after this returns.
        setup: (conn: ChannelModel) => keeper.setup(conn),
      },
    });
    keeper.watch(model);
    try {
      await model.waitForConnect();
    } catch (e) {
      await model.close().catch(() => undefined);
      throw e;
    }
    return keeper;
  }

  private watch(model: RecoveringChannelModel): void {
    this.model = model;
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
    model.on("blocked", (reason: string) =>
      this.log.warn({ reason }, "broker blocked publishing; casts wait"),
    );
    model.on("unblocked", () => this.log.info("broker unblocked publishing"));
  }

  /** The live link, if any. */
  current(): Link | undefined {
    return this.link;
  }

  /** amqplib's recovery calls this on every new connection: the channels, then the bus's part. */
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
    await sub.prefetch(this.prefetch);
    await this.hooks.build(link);
    if (link.dead || this.hooks.closed()) {
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
    this.wakeAll();
  }

  /** Waits for a live link until `waitUntil` at most. */
  async ready(waitUntil: number): Promise<Link> {
    const started = Date.now();
    for (;;) {
      if (this.hooks.closed()) {
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

  /** After an operation on LINK failed: whether the link died (its close events come a tick later). */
  async diedUnder(link: Link): Promise<boolean> {
    await new Promise((resolve) => setImmediate(resolve));
    return link.dead;
  }

  /** Any part of LINK closed: drop it, tell the bus, let recovery redial. */
  lost(link: Link, what: string, err?: Error): void {
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
    this.hooks.lost(link, what, err ?? this.lastConnError);
    // A channel lost on its own takes its connection down too, so that recovery rebuilds all of it.
    void link.conn.close().catch(() => undefined);
  }

  wakeAll(): void {
    for (const wake of [...this.waiters]) {
      wake();
    }
  }

  /** Closes the live link's channels and the connection; also stops a redial waiting or under way. */
  async close(): Promise<void> {
    const last = this.link;
    this.link = undefined;
    if (last) {
      last.dead = true;
      await last.sub.close().catch(() => undefined);
      await last.pub.close().catch(() => undefined);
    }
    await this.model.close().catch(() => undefined);
  }

  private downMs(): number | undefined {
    return this.outage && Date.now() - this.outage.since;
  }
}
