import { coerceError, RpcRemoteError, RpcTimeout, ServiceError } from "../../common/errors";
import type { Logger } from "../../common/logger";
import { outgoingContext, runAsSender } from "./context";
import type { Bus, CallOptions, Envelope, Reply, RpcArgs, RpcHandlers } from "./types";
import { DEFAULT_CALL_TIMEOUT_MS } from "./types";

interface Pending {
  envelope: Envelope;
  reply?: (r: Reply) => void;
}

/**
 * In-process bus for the all-in-one service. Messages to a topic nobody serves yet wait in a
 * queue, as they would in a durable RabbitMQ queue. Arguments are cloned through JSON so handlers
 * see exactly what they would see over AMQP.
 */
export class MemoryBus implements Bus {
  private readonly handlers = new Map<string, RpcHandlers>();
  private readonly backlog = new Map<string, Pending[]>();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly opts: { logger: Logger }) {}

  async cast(topic: string, method: string, args: RpcArgs): Promise<void> {
    this.enqueue(topic, { envelope: wire(method, args) });
  }

  call<T>(topic: string, method: string, args: RpcArgs, opts: CallOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = {
        envelope: wire(method, args),
        reply: (r) => {
          clearTimeout(timer);
          if (r.ok) {
            resolve(r.result as T);
          } else {
            reject(new RpcRemoteError(r.code, r.message));
          }
        },
      };
      const timer = setTimeout(() => {
        // Like an expired AMQP request: a topic served later must not act on a call nobody awaits.
        this.unqueue(topic, pending);
        reject(new RpcTimeout(topic, method, timeoutMs));
      }, timeoutMs);
      try {
        this.enqueue(topic, pending);
      } catch (e) {
        clearTimeout(timer);
        throw e;
      }
    });
  }

  async serve(topic: string, handlers: RpcHandlers): Promise<void> {
    this.handlers.set(topic, handlers);
    const waiting = this.backlog.get(topic) ?? [];
    this.backlog.delete(topic);
    for (const p of waiting) {
      this.dispatch(topic, handlers, p);
    }
  }

  /** Nothing can disconnect an in-process bus. */
  isConnected(): boolean {
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
  }

  private enqueue(topic: string, p: Pending): void {
    if (this.closed) {
      throw new Error("bus is closed");
    }
    const handlers = this.handlers.get(topic);
    if (handlers) {
      this.dispatch(topic, handlers, p);
    } else {
      this.backlog.set(topic, [...(this.backlog.get(topic) ?? []), p]);
    }
  }

  private unqueue(topic: string, p: Pending): void {
    const waiting = this.backlog.get(topic)?.filter((q) => q !== p);
    if (waiting) {
      this.backlog.set(topic, waiting);
    }
  }

  private dispatch(topic: string, handlers: RpcHandlers, p: Pending): void {
    const run = async (): Promise<void> => {
      // Never run a handler inside its caller's stack: AMQP would not either.
      await new Promise((r) => setImmediate(r));
      // Own properties only: a method named "toString" or "constructor" must not reach Object.prototype.
      const method = p.envelope.method;
      const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
      if (!handler) {
        this.opts.logger.error(
          { topic, method: p.envelope.method },
          "no handler for method; message dropped",
        );
        p.reply?.({ ok: false, code: "VMS_ERR_INTERNAL", message: `No such method: ${p.envelope.method}` });
        return;
      }
      try {
        const result = await handler(JSON.parse(JSON.stringify(p.envelope.args)) as RpcArgs);
        p.reply?.({ ok: true, result: result === undefined ? null : JSON.parse(JSON.stringify(result)) });
      } catch (e) {
        const err = coerceError(e);
        this.opts.logger.error({ err, topic, method: p.envelope.method }, "rpc handler failed");
        p.reply?.({
          ok: false,
          code: err instanceof ServiceError ? err.code : "VMS_ERR_INTERNAL",
          message: err.message,
        });
      }
    };
    // Under the sender's ids, not those of whoever is delivering (a cast's caller, or serve()).
    const done = runAsSender(p.envelope.context, run);
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }
}

function wire(method: string, args: RpcArgs): Envelope {
  return JSON.parse(JSON.stringify({ method, args, context: outgoingContext() })) as Envelope;
}
