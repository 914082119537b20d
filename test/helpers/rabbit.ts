/**
 * A RabbitMQ vhost of its own per test file, so durable queues left by other runs never mix in.
 * The broker is the real one in VMS_TEST_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";

const AMQP = new URL(process.env["VMS_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672");

export interface TestVhost {
  /** transport_url for the service's config. */
  url: string;
  drop(): void;
}

export function createVhost(): TestVhost {
  const vhost = `vms-e2e-${randomBytes(4).toString("hex")}`;
  const user = AMQP.username || "guest";
  execFileSync("rabbitmqctl", ["add_vhost", vhost], { stdio: "ignore" });
  execFileSync("rabbitmqctl", ["set_permissions", "-p", vhost, user, ".*", ".*", ".*"], { stdio: "ignore" });
  return {
    url: `amqp://${user}:${AMQP.password || "guest"}@${AMQP.host}/${vhost}`,
    drop: () => execFileSync("rabbitmqctl", ["delete_vhost", vhost], { stdio: "ignore" }),
  };
}
