/**
 * The message bus between api, scheduler and volume workers. Two implementations share this
 * interface and one contract test suite: AMQP (RabbitMQ, durable queues, persistent messages,
 * publisher confirms) and in-process (the all-in-one default).
 *
 * Delivery rule: a message is acknowledged only after its handler's promise resolves. Handlers of
 * long work therefore resolve as soon as they have recorded in the database what they will do
 * (for example a compare-and-swap to `migrating`), and carry on in the background; a crash before
 * that point redelivers the message, a crash after it is picked up by recovery from the database.
 *
 * Request ids: both buses send the sender's ids with each cast and call and run the handler under
 * them (context.ts), so the work a request causes logs its id in every process.
 */
import type { WireContext } from "./context";

export type RpcArgs = Record<string, unknown>;

/** Handles one method; the resolved value is the reply of a `call` (ignored for a `cast`). */
export type RpcHandler = (args: RpcArgs) => Promise<unknown>;

export type RpcHandlers = Record<string, RpcHandler>;

export interface CallOptions {
  /** Reply deadline; Cinder's rpc_response_timeout default is 60 s. */
  timeoutMs?: number;
}

export interface Bus {
  /**
   * Fire and forget: resolves once the bus has accepted the message (AMQP: broker confirm). While
   * the AMQP bus is reconnecting it waits (bounded) for the broker, then rejects with BusUnavailable.
   */
  cast(topic: string, method: string, args: RpcArgs): Promise<void>;
  /**
   * Request and reply; rejects with RpcTimeout after the deadline, RpcRemoteError from the handler,
   * or BusUnavailable when the broker connection is lost before the reply arrives.
   */
  call<T = unknown>(topic: string, method: string, args: RpcArgs, opts?: CallOptions): Promise<T>;
  /**
   * Start consuming `topic` (AMQP: again after every reconnect); messages for methods not in
   * `handlers` are logged and dropped.
   */
  serve(topic: string, handlers: RpcHandlers): Promise<void>;
  close(): Promise<void>;
  /**
   * Whether the bus can reach its broker now (AMQP: connection and channels up, consumers in place).
   * The in-process bus always can. A service whose bus is down stops its heartbeat.
   */
  isConnected(): boolean;
}

export const DEFAULT_CALL_TIMEOUT_MS = 60_000;

/** The wire form of a message body, shared by both implementations. */
export interface Envelope {
  method: string;
  args: RpcArgs;
  /** The sender's request ids (context.ts); absent when it worked outside any request. */
  context?: WireContext;
}

/** The wire form of a reply. */
export type Reply = { ok: true; result: unknown } | { ok: false; code: string; message: string };
