import type { AppConfig } from "../../common/config";
import type { Logger } from "../../common/logger";
import type { Db } from "../../db/connection";
import { reapExpiredMessages } from "../../db/messages";

/**
 * Cinder's SchedulerManager._clean_expired_messages: every message_reap_interval seconds (and once
 * at start) the messages older than message_ttl are deleted. Readers never show expired ones
 * anyway; this keeps the table small.
 */
export function startMessageReaper(deps: { db: Db; config: AppConfig; logger: Logger }): { stop(): void } {
  const { ttlSecs, reapIntervalSecs } = deps.config.messages;
  const sweep = async (): Promise<void> => {
    try {
      const n = await reapExpiredMessages(deps.db, ttlSecs);
      if (n > 0) {
        deps.logger.info({ deleted: n }, "deleted expired user messages");
      }
    } catch (err) {
      deps.logger.warn({ err }, "could not delete expired user messages");
    }
  };
  const timer = setInterval(() => void sweep(), reapIntervalSecs * 1000);
  timer.unref();
  void sweep();
  return { stop: () => clearInterval(timer) };
}
