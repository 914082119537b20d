import axios, { type AxiosInstance, isAxiosError } from "axios";

import type { NovaConfig } from "../../common/config";
import { ErrorCodes, ServiceError } from "../../common/errors";

/** What a volume worker needs from Nova: the swap of an attached volume (update_server_volume). */
export interface ComputeClient {
  swapVolume(serverId: string, oldVolumeId: string, newVolumeId: string): Promise<void>;
}

export class ComputeError extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_COMPUTE;
  override readonly safe = true;
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

/**
 * Nova's swap volume API over HTTP (cinder/compute/nova.py update_server_volume). Errors are
 * translated here, at the boundary, into ComputeError with Nova's status and message.
 */
export class NovaClient implements ComputeClient {
  private readonly http: AxiosInstance;

  constructor(config: NovaConfig) {
    this.http = axios.create({
      baseURL: config.endpoint,
      timeout: config.timeoutSecs * 1000,
      headers: {
        "X-Auth-Token": config.token,
        // Nova restricts swap to the service role (2025 hardening): send the service token too.
        "X-Service-Token": config.token,
        "Content-Type": "application/json",
      },
    });
  }

  async swapVolume(serverId: string, oldVolumeId: string, newVolumeId: string): Promise<void> {
    const url = `/servers/${encodeURIComponent(serverId)}/os-volume_attachments/${encodeURIComponent(oldVolumeId)}`;
    try {
      await this.http.put(url, { volumeAttachment: { volumeId: newVolumeId } });
    } catch (e) {
      throw translate(e, `swap of volume ${oldVolumeId} on server ${serverId}`);
    }
  }
}

function translate(e: unknown, what: string): ComputeError {
  if (isAxiosError(e)) {
    if (e.response) {
      const body = e.response.data as Record<string, { message?: string }> | undefined;
      const message = body ? Object.values(body)[0]?.message : undefined;
      return new ComputeError(
        `Nova refused the ${what}: ${message ?? e.message} (HTTP ${e.response.status})`,
        e.response.status,
      );
    }
    return new ComputeError(`Nova did not answer the ${what}: ${e.message}`, null);
  }
  return new ComputeError(`Nova call for the ${what} failed: ${String(e)}`, null);
}
