/**
 * A stand-in for Nova's swap-volume API (nova/api/openstack/compute/volume_attachments.py
 * _update_volume_swap), because Nova cannot run here. It enforces Nova's checks, copies the data
 * the way libvirt's blockCopy would (through a function the test gives it), then calls Cinder's
 * os-migrate_volume_completion back and keeps the returned save_volume_id in its block device map.
 */
import type { Server } from "node:http";

import express from "express";

export interface StandInServer {
  id: string;
  /** Volume ids attached to the server (its block device mapping). */
  volumes: string[];
  state: "ACTIVE" | "PAUSED" | "SHUTOFF";
}

export interface NovaStandInOptions {
  /** The Cinder v3 endpoint with project, e.g. http://127.0.0.1:8776/v3/demo. */
  cinder: string;
  /** Token Nova uses towards Cinder (an admin/service token). */
  cinderToken: string;
  /** Token Cinder must present: Nova's swap policy is service role only. */
  serviceToken: string;
  /** Copies the old volume's bytes into the new one, as libvirt's blockCopy would. */
  copy(oldVolumeId: string, newVolumeId: string): Promise<void>;
}

export class NovaStandIn {
  readonly servers = new Map<string, StandInServer>();
  /** Swaps seen, with what Cinder's completion answered. */
  readonly swaps: { server: string; old: string; new: string; saved?: string; status?: number }[] = [];
  failNextCopy = false;
  private server?: Server;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly o: NovaStandInOptions) {}

  async listen(): Promise<string> {
    const app = express();
    app.use(express.json());
    app.put("/v2.1/servers/:server/os-volume_attachments/:old", (req, res) => {
      void this.swap(req.params.server, req.params.old, req.body, req.get("x-service-token")).then(
        ([status, body]) => res.status(status).json(body),
      );
    });
    this.server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
      // Idle connections stay open, as Nova's WSGI server keeps them: with Node's 5 s a loaded
      // machine lets a client reuse one the server is closing (ECONNRESET), a race of the test's.
      s.keepAliveTimeout = 900_000;
      s.headersTimeout = 901_000;
    });
    const addr = this.server.address();
    return `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/v2.1`;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Resolves when every swap started so far has called Cinder back. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private async swap(
    serverId: string,
    oldId: string,
    body: unknown,
    serviceToken?: string,
  ): Promise<[number, unknown]> {
    const fault = (code: number, message: string): [number, unknown] => [
      code,
      {
        [code === 409
          ? "conflictingRequest"
          : code === 404
            ? "itemNotFound"
            : code === 403
              ? "forbidden"
              : "badRequest"]: { code, message },
      },
    ];
    if (serviceToken !== this.o.serviceToken) {
      return fault(403, "Policy doesn't allow os_compute_api:os-volumes-attachments:swap to be performed.");
    }
    const newId = (body as { volumeAttachment?: { volumeId?: string } })?.volumeAttachment?.volumeId;
    if (typeof newId !== "string") {
      return fault(400, "Invalid input for field/attribute volumeAttachment.");
    }
    const server = this.servers.get(serverId);
    if (!server) {
      return fault(404, `Instance ${serverId} could not be found.`);
    }
    if (server.state === "SHUTOFF") {
      return fault(409, `Cannot 'swap_volume' instance ${serverId} while it is in vm_state stopped`);
    }
    const [oldVol, newVol] = await Promise.all([this.volume(oldId), this.volume(newId)]);
    if (!oldVol || !newVol) {
      return fault(404, `Volume ${oldVol ? newId : oldId} could not be found.`);
    }
    if (!oldVol["migration_status"]) {
      return fault(409, `volume ${oldId} is not migrating; this API should only be called by Cinder`);
    }
    if (!server.volumes.includes(oldId)) {
      return fault(400, `volume ${oldId} is not attached to server ${serverId}`);
    }
    if ((newVol["attachments"] as unknown[]).length > 0) {
      return fault(400, `volume ${newId} is already attached`);
    }
    if (Number(newVol["size"]) < Number(oldVol["size"])) {
      return fault(400, "The new volume must be at least as large as the old one");
    }
    const work = this.finishSwap(server, oldId, newId);
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
    return [202, null];
  }

  /** libvirt's part (copy, pivot), then the callback; Nova then rewrites its BDM with save_volume_id. */
  private async finishSwap(server: StandInServer, oldId: string, newId: string): Promise<void> {
    const record: (typeof this.swaps)[number] = { server: server.id, old: oldId, new: newId };
    this.swaps.push(record);
    let failed = this.failNextCopy;
    this.failNextCopy = false;
    if (!failed) {
      try {
        await this.o.copy(oldId, newId);
      } catch {
        failed = true;
      }
    }
    const res = await fetch(`${this.o.cinder}/volumes/${oldId}/action`, {
      method: "POST",
      headers: { "X-Auth-Token": this.o.cinderToken, "Content-Type": "application/json" },
      body: JSON.stringify({ "os-migrate_volume_completion": { new_volume: newId, error: failed } }),
    });
    record.status = res.status;
    const json = (await res.json().catch(() => ({}))) as { save_volume_id?: string };
    record.saved = json.save_volume_id;
    if (res.status === 200 && json.save_volume_id) {
      server.volumes = server.volumes.map((v) => (v === oldId ? json.save_volume_id! : v));
    }
  }

  private async volume(id: string): Promise<Record<string, unknown> | undefined> {
    const res = await fetch(`${this.o.cinder}/volumes/${id}`, {
      headers: { "X-Auth-Token": this.o.cinderToken },
    });
    return res.status === 200
      ? ((await res.json()) as { volume: Record<string, unknown> }).volume
      : undefined;
  }
}
