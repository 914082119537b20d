import type { Logger } from "../../common/logger";
import { MemoryBus } from "./memory";
import type { Bus } from "./types";

export { MemoryBus } from "./memory";
export * from "./types";

/** `memory://` → in-process bus; `rabbit://` / `amqp://` → RabbitMQ. */
export async function createBus(transportUrl: string, deps: { logger: Logger }): Promise<Bus> {
  const url = new URL(transportUrl);
  if (url.protocol === "memory:") {
    return new MemoryBus(deps);
  }
  const { AmqpBus } = await import("./amqp");
  return AmqpBus.connect(transportUrl, deps);
}
