/**
 * The AMQP bus's wire: transport URLs, the request envelope and the reply as JSON message bodies,
 * and what a served handler's outcome becomes (the reply, and whether a cast is delivered again).
 * No broker here: amqp.ts and amqpLink.ts move these bodies.
 */
import { coerceError, ConfigError, ErrorCodes, ServiceError } from "../../common/errors";
import type { WireContext } from "./context";
import type { Envelope, Reply, RpcArgs, RpcHandlers } from "./types";

/** RabbitMQ's direct reply-to pseudo-queue: no reply queue to declare or clean up per caller. */
export const REPLY_TO = "amq.rabbitmq.reply-to";
export const CONTENT_TYPE = "application/json";

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

export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
}

export function nonEmptyString(value: unknown): string | undefined {
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

export function parseEnvelope(content: Buffer): Envelope | undefined {
  const v = parseJson(content);
  const args = v?.["args"];
  const valid = typeof v?.["method"] === "string" && typeof args === "object" && args !== null;
  // The context is checked where it is used (runAsSender); a malformed one only loses the ids.
  return valid
    ? { method: String(v["method"]), args: args as RpcArgs, context: v["context"] as WireContext }
    : undefined;
}

export function parseReply(content: Buffer): Reply {
  const v = parseJson(content);
  if (v?.["ok"] === true || (v?.["ok"] === false && typeof v["code"] === "string")) {
    return v as Reply;
  }
  return { ok: false, code: ErrorCodes.VMS_ERR_INTERNAL, message: "Malformed reply" };
}

/** What a delivery comes to: the reply (sent when the sender waits for one), and whether to requeue. */
export interface Answer {
  reply: Reply;
  requeue: boolean;
  /** For the log: no handler for the message, or the handler's error (none when it returned). */
  failure?: "no handler" | Error;
}

/**
 * Runs the envelope's handler. `isCall`: the sender waits for a reply; `redelivered`: the broker
 * delivered this message before.
 */
export async function answer(
  handlers: RpcHandlers,
  envelope: Envelope | undefined,
  isCall: boolean,
  redelivered: boolean,
): Promise<Answer> {
  const handler =
    envelope && Object.hasOwn(handlers, envelope.method) ? handlers[envelope.method] : undefined;
  if (!envelope || !handler) {
    const message = envelope ? `No such method: ${envelope.method}` : "Malformed message";
    return {
      reply: { ok: false, code: ErrorCodes.VMS_ERR_INTERNAL, message },
      requeue: false,
      failure: "no handler",
    };
  }
  try {
    const result = await handler(envelope.args);
    // Round-tripped here, as MemoryBus does, so a result JSON cannot carry (a BigInt, a cycle)
    // becomes this handler's error instead of a reply that never gets sent.
    return {
      reply: {
        ok: true,
        result: result === undefined ? null : (JSON.parse(JSON.stringify(result)) as unknown),
      },
      requeue: false,
    };
  } catch (e) {
    const err = coerceError(e);
    const known = err instanceof ServiceError;
    // A ServiceError is a deliberate refusal a retry would repeat; anything else may be transient,
    // so a cast gets exactly one more delivery (not more: a message that always crashes its handler
    // must not loop). A call is never retried: its caller sees the error and decides.
    return {
      reply: { ok: false, code: known ? err.code : ErrorCodes.VMS_ERR_INTERNAL, message: err.message },
      requeue: !isCall && !known && !redelivered,
      failure: err,
    };
  }
}

export async function settleWithin(promises: Promise<unknown>[], ms: number): Promise<boolean> {
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
