/**
 * A RabbitMQ vhost of its own per test file, so durable queues left by other runs never mix in.
 * The broker is the real one in VMS_TEST_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672).
 */
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";

const run = promisify(execFile);
const AMQP = new URL(process.env["VMS_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672");

export interface TestVhost {
  /** The vhost's name. */
  name: string;
  /** transport_url for the service's config. */
  url: string;
  /**
   * Closes every client connection of this vhost, and only those (what a broker restart or a
   * failover does to its clients) with `rabbitmqctl close_all_connections -p`; resolves to how
   * many. Asynchronous: the test's own event loop (and any bus in it) keeps running meanwhile.
   */
  closeConnections(reason?: string): Promise<number>;
  drop(): void;
}

export function createVhost(): TestVhost {
  const vhost = `vms-e2e-${randomBytes(4).toString("hex")}`;
  const user = AMQP.username || "guest";
  execFileSync("rabbitmqctl", ["add_vhost", vhost], { stdio: "ignore" });
  execFileSync("rabbitmqctl", ["set_permissions", "-p", vhost, user, ".*", ".*", ".*"], { stdio: "ignore" });
  return {
    name: vhost,
    url: `amqp://${user}:${AMQP.password || "guest"}@${AMQP.host}/${vhost}`,
    closeConnections: async (reason = "test: broker connections cut") => {
      const { stdout } = await run("rabbitmqctl", ["close_all_connections", "-p", vhost, reason]);
      return Number(/Closed (\d+) connections/.exec(stdout)?.[1] ?? 0);
    },
    drop: () => execFileSync("rabbitmqctl", ["delete_vhost", vhost], { stdio: "ignore" }),
  };
}
