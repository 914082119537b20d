import { coerceError } from "../common/errors";
import type { Logger } from "../common/logger";
import type { ServiceBinary } from "../common/states";
import type { Db } from "../db/connection";
import { reportService, type ServiceCapabilities } from "../db/services";
import type { Bus } from "./rpc/types";

export interface HeartbeatOptions {
  db: Db;
  logger: Logger;
  service: {
    host: string;
    binary: ServiceBinary;
    topic: string;
    availabilityZone: string;
    clusterName?: string | null;
  };
  intervalSecs: number;
  /** Volume services report pool capabilities with each heartbeat. */
  capabilities?: () => Promise<ServiceCapabilities>;
  /** The service's bus: while it cannot reach the broker the service cannot take work, so no heartbeat. */
  bus?: Pick<Bus, "isConnected">;
}

/**
 * Cinder's report_state: bump the service row every report_interval. A failed capability read
 * still records the heartbeat (the service is up) but keeps the last capabilities. While the bus is
 * disconnected the row is left alone: a service that cannot receive work shows `down` after
 * service_down_time, and the scheduler stops choosing it.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private skipping = false;

  constructor(private readonly opts: HeartbeatOptions) {}

  /** Reports once (so the service is visible before start() returns), then every interval. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.beat());
    }, this.opts.intervalSecs * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    await this.running;
  }

  async beat(): Promise<void> {
    if (this.opts.bus && !this.opts.bus.isConnected()) {
      if (!this.skipping) {
        this.opts.logger.warn("message bus disconnected: heartbeats paused until it reconnects");
      }
      this.skipping = true;
      return;
    }
    if (this.skipping) {
      this.opts.logger.info("message bus connected again: heartbeats resumed");
      this.skipping = false;
    }
    let caps: ServiceCapabilities | undefined;
    try {
      caps = await this.opts.capabilities?.();
    } catch (e) {
      this.opts.logger.warn({ err: coerceError(e) }, "could not read backend capabilities");
    }
    try {
      await reportService(this.opts.db, this.opts.service, caps);
    } catch (e) {
      this.opts.logger.error({ err: coerceError(e) }, "heartbeat failed");
    }
  }
}
