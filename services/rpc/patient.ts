/**
 * A bus for background work that must outlast a broker outage. The AMQP bus waits a bounded
 * `connectWaitMs` (30 s) for the broker and then fails with BusUnavailable: right for an API
 * request, which answers 503 and lets the client try again, but wrong for a migration whose copy
 * has run for an hour and only needs one more answer from the destination. A RabbitMQ restart
 * under load takes longer than 30 s, and the processes then redial with backoff, so the volume
 * worker's own calls wait here for as long as an operator would expect an outage to last.
 *
 * Only methods named idempotent are sent again: after a lost connection the first request may
 * still be delivered and handled (it sits in a durable queue), so a repeat must be harmless.
 * A call that timed out (RpcTimeout) is not repeated: its first copy may still be running.
 */
import { BusUnavailable } from "../../common/errors";
import type { Logger } from "../../common/logger";
import type { Bus, CallOptions, RpcArgs, RpcHandlers } from "./types";

export interface PatienceOptions {
  /** Methods whose handler tolerates the same request twice (it reads, or converges). */
  idempotent: ReadonlySet<string>;
  /** How long, from the first try, a call keeps being retried; default 10 minutes. */
  waitMs?: number;
  /** Pause between tries; default 2 s (the bus itself already waited its connectWaitMs). */
  retryDelayMs?: number;
  logger: Logger;
}

export function patientBus(bus: Bus, o: PatienceOptions): Bus {
  const waitMs = o.waitMs ?? 600_000;
  const delayMs = o.retryDelayMs ?? 2_000;
  return {
    cast: (topic: string, method: string, args: RpcArgs) => bus.cast(topic, method, args),
    async call<T>(topic: string, method: string, args: RpcArgs, opts?: CallOptions): Promise<T> {
      if (!o.idempotent.has(method)) {
        return bus.call<T>(topic, method, args, opts);
      }
      const until = Date.now() + waitMs;
      for (let attempt = 1; ; attempt++) {
        try {
          return await bus.call<T>(topic, method, args, opts);
        } catch (e) {
          if (!(e instanceof BusUnavailable) || Date.now() + delayMs >= until) {
            throw e;
          }
          o.logger.warn(
            { err: e, topic, method, attempt, leftMs: until - Date.now() },
            "message bus unavailable; trying the call again once it is back",
          );
          await new Promise((r) => setTimeout(r, delayMs));
        }
      }
    },
    serve: (topic: string, handlers: RpcHandlers) => bus.serve(topic, handlers),
    close: () => bus.close(),
    isConnected: () => bus.isConnected(),
  };
}
