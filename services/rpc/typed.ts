/**
 * Typed RPC over the untyped Bus: a method map (method name → `{ args; result }`, see methods.ts)
 * types both sides, the client stubs through RpcClient and the served handlers through
 * TypedHandlers, so a renamed method, a missing handler or a wrong argument fails the typecheck.
 * The wire (Envelope, Reply) and the Bus interface stay as they are.
 */
import type { Bus, CallOptions, RpcArgs, RpcHandlers } from "./types";

/** What every method map looks like: each method's wire arguments (a JSON object) and its reply. */
export type MethodMap<T> = { [M in keyof T]: { args: object; result: unknown } };

/** One handler per method of the map, each taking that method's arguments and resolving to its reply. */
export type TypedHandlers<T extends MethodMap<T>> = {
  [M in keyof T & string]: (args: T[M]["args"]) => Promise<T[M]["result"]>;
};

/** The sending side of one service's methods: the method name picks the argument and reply types. */
export class RpcClient<T extends MethodMap<T>> {
  constructor(private readonly bus: Bus) {}

  /** Fire and forget (Bus.cast). */
  cast<M extends keyof T & string>(topic: string, method: M, args: T[M]["args"]): Promise<void> {
    return this.bus.cast(topic, method, toWire(args));
  }

  /** Request and reply (Bus.call). */
  call<M extends keyof T & string>(
    topic: string,
    method: M,
    args: T[M]["args"],
    opts?: CallOptions,
  ): Promise<T[M]["result"]> {
    return this.bus.call<T[M]["result"]>(topic, method, toWire(args), opts);
  }
}

/** A shallow copy as the bus's plain record; the bus serialises it to JSON as before. */
function toWire(args: object): RpcArgs {
  return { ...args };
}

/**
 * The one place where the wire's untyped arguments become a method's typed arguments, for
 * Bus.serve. The cast below is as sound as the senders: every message on a service's topic is
 * built by an RpcClient over the same method map, so its args were checked as `T[M]["args"]` when
 * sent, and both buses hand the handler that object back through JSON (AMQP parses the body and
 * drops a message whose `args` is not an object; MemoryBus round-trips it), which is why the maps
 * hold JSON values only. A method not in the map never gets here: the buses look it up among
 * these own keys and drop the message.
 */
export function toRpcHandlers<T extends MethodMap<T>>(handlers: TypedHandlers<T>): RpcHandlers {
  const untyped: RpcHandlers = {};
  for (const method of Object.keys(handlers) as (keyof T & string)[]) {
    const handler = handlers[method];
    untyped[method] = (args: RpcArgs) => handler(args as T[typeof method]["args"]);
  }
  return untyped;
}
