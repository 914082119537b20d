/** The fixtures the authorisation matrix acts on (see authzTable.ts): one World per run. */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { waitFor } from "../helpers/stack";
import { CONNECTOR, type Maker, TABLE, type Vars } from "./authzTable";

type Json = Record<string, unknown>;

/** An admin call of the set-up: anything but `status` is a broken fixture (thrown), not a finding. */
export type AdminCall = (method: string, path: string, body: unknown, status: number) => Promise<Json>;

/** Makers that use up a volume of the pool. */
const VOLUME_MAKERS: readonly Maker[] = [
  "volume",
  "twoVolumes",
  "attached",
  "reserved",
  "detaching",
  "migrating",
  "attachment",
  "connectedAttachment",
  "transfer",
];
const short = (): string => randomUUID().slice(0, 8);
const idOf = (b: Json, key: string): string => (b[key] as Json)["id"] as string;

/**
 * Makes the objects the rows need, each call a new one: rows that change or destroy what they act
 * on never share it, so the table passes in any order. `ids` holds the shared fixtures, which no
 * row destroys. Volumes are adopted from sparse files (os-volume-manage) so each lands exactly
 * on the backend named, without scheduling: fixtures on rel@file-1, evacuation sources on file-2.
 */
export class World {
  readonly ids: Vars = {};
  private pool: string[] = [];
  private messages: string[] = [];
  /** Every volume made here (to look for in metrics labels). */
  readonly volumeIds: string[] = [];

  constructor(
    private readonly admin: AdminCall,
    private readonly stateDir: string,
  ) {}

  async setUp(): Promise<void> {
    const type = async (name: string, extra_specs: Json, isPublic = true): Promise<string> => {
      const vt = { name, extra_specs, "os-volume-type-access:is_public": isPublic };
      return idOf(await this.admin("POST", "/types", { volume_type: vt }, 200), "volume_type");
    };
    const ids = this.ids;
    ids["type"] = await type("rel-shared", { multiattach: "<is> False", volume_backend_name: "file-1" });
    ids["ptype"] = await type("rel-private", {}, false);
    ids["retype"] = "rel-retype";
    await type(ids["retype"], {});
    await type("rel-nowhere", { volume_backend_name: "nowhere" });
    ids["qos"] = idOf(
      await this.admin("POST", "/qos-specs", { qos_specs: { name: "rel-qos" } }, 200),
      "qos_specs",
    );
    // About one volume per cell (admin, member, cross) of every row that uses one up, and the
    // shared ones; a pool run dry adopts more one by one.
    const rows = TABLE.filter((row) => row.fresh && VOLUME_MAKERS.includes(row.fresh)).length;
    this.pool = await this.manageMany(rows * 3 + 10);
    [ids["vol"], ids["svol"], ids["viewVol"]] = [this.take(), this.take(), this.take()];
    this.messages = await this.makeMessages(4);
    ids["msg"] = this.messages.pop()!;
    // The first migration leaving file-1: it runs (slowly); every later one queues behind it.
    const m = await this.migrating();
    [ids["migVol"], ids["mig"]] = [m["vol"]!, m["mig"]!];
    await this.admin("POST", `/volumes/${ids["vol"]}/metadata`, { metadata: { fixed: "1" } }, 200);
    ids["snap"] = (await this.snapshot())["snap"]!;
    await this.admin("POST", `/snapshots/${ids["snap"]}/metadata`, { metadata: { fixed: "1" } }, 200);
    await this.act(ids["viewVol"], "os-attach", { host_name: "rel-compute", mountpoint: "/dev/vdc" });
    ids["att"] = (await this.attachment())["att"]!;
    ids["evac"] = (await this.evacuation())["evac"]!;
  }

  async volume(): Promise<Vars> {
    return { vol: this.pool.pop() ?? (await this.manageMany(1))[0]! };
  }

  /** A fresh volume of `demo` offered for transfer: its id, the transfer's and the auth key. */
  async transfer(): Promise<Vars> {
    const v = await this.volume();
    const body = { transfer: { volume_id: v["vol"] } };
    const t = (await this.admin("POST", "/os-volume-transfer", body, 202))["transfer"] as Json;
    return { ...v, xfer: t["id"] as string, key: t["auth_key"] as string };
  }

  async twoVolumes(): Promise<Vars> {
    return { vol: (await this.volume())["vol"]!, vol2: (await this.volume())["vol"]! };
  }

  async attached(): Promise<Vars> {
    const v = await this.volume();
    await this.act(v["vol"]!, "os-attach", { instance_uuid: randomUUID(), mountpoint: "/dev/vdb" });
    await this.waitVolumes([v["vol"]!], "in-use");
    return v;
  }

  async reserved(): Promise<Vars> {
    const v = await this.volume();
    await this.act(v["vol"]!, "os-reserve", {});
    return v;
  }

  async detaching(): Promise<Vars> {
    const v = await this.attached();
    await this.act(v["vol"]!, "os-begin_detaching", {});
    return v;
  }

  /** Queued or running: every copy here is throttled, one per source backend at a time. */
  async migrating(): Promise<Vars> {
    const v = await this.volume();
    await this.act(v["vol"]!, "os-migrate_volume", { host: "rel@file-2#file-2" });
    const row = await waitFor(async () => {
      const list = await this.admin("GET", `/migrations?volume_id=${v["vol"]}`, undefined, 200);
      return (list["migrations"] as Json[])[0];
    }, "the migration's row");
    return { ...v, mig: row["id"] as string };
  }

  async snapshot(): Promise<Vars> {
    const body = { snapshot: { volume_id: this.ids["svol"], name: `authz-${short()}` } };
    const snap = idOf(await this.admin("POST", "/snapshots", body, 202), "snapshot");
    await waitFor(async () => {
      const s = await this.admin("GET", `/snapshots/${snap}`, undefined, 200);
      return (s["snapshot"] as Json)["status"] === "available";
    }, "the snapshot available");
    return { snap };
  }

  async volumeType(): Promise<Vars> {
    const body = { volume_type: { name: `authz-${short()}` } };
    return { type: idOf(await this.admin("POST", "/types", body, 200), "volume_type") };
  }

  /** A fresh type with an encryption (a type no volume has). */
  async encryptedType(): Promise<Vars> {
    const t = await this.volumeType();
    const body = { encryption: { provider: "luks", control_location: "front-end" } };
    await this.admin("POST", `/types/${t["type"]}/encryption`, body, 200);
    return t;
  }

  specKey(): Promise<Vars> {
    return this.keyOn("POST", `/types/${this.ids["type"]}/extra_specs`, "extra_specs");
  }

  async accessGranted(): Promise<Vars> {
    const project = `p-${short()}`;
    await this.admin("POST", `/types/${this.ids["ptype"]}/action`, { addProjectAccess: { project } }, 202);
    return { project };
  }

  async qos(): Promise<Vars> {
    const body = { qos_specs: { name: `authz-${short()}` } };
    return { qos: idOf(await this.admin("POST", "/qos-specs", body, 200), "qos_specs") };
  }

  qosKey(): Promise<Vars> {
    return this.keyOn("PUT", `/qos-specs/${this.ids["qos"]}`, "qos_specs");
  }

  async qosAssociated(): Promise<Vars> {
    const t = await this.volumeType();
    await this.admin(
      "GET",
      `/qos-specs/${this.ids["qos"]}/associate?vol_type_id=${t["type"]}`,
      undefined,
      202,
    );
    return t;
  }

  async message(): Promise<Vars> {
    return { msg: this.messages.pop() ?? (await this.makeMessages(1))[0]! };
  }

  /** A new-style attachment, reserved; with a connector (ready for os-complete) when `connected`. */
  async connectedAttachment(): Promise<Vars> {
    return this.attachment(true);
  }

  async attachment(connected = false): Promise<Vars> {
    const a = { volume_uuid: (await this.volume())["vol"], instance_uuid: randomUUID() };
    const body = { attachment: connected ? { ...a, connector: CONNECTOR } : a };
    return { att: idOf(await this.admin("POST", "/attachments", body, 200), "attachment") };
  }

  /** A file in rel@file-1's directory that no volume owns yet. */
  async manageable(): Promise<Vars> {
    return { ref: this.sparseFile("file-1") };
  }

  async file2Volume(): Promise<Vars> {
    const vol = await this.manage("file-2");
    await this.waitVolumes([vol], "available");
    return { vol };
  }

  /** Evacuating rel@file-2, whose copies are throttled: it stays running. */
  async evacuation(): Promise<Vars> {
    await this.file2Volume();
    const body = { evacuation: { source: "rel@file-2", destination: "rel@file-1", disable_source: false } };
    return { evac: idOf(await this.admin("POST", "/evacuations", body, 202), "evacuation") };
  }

  async pausedEvacuation(): Promise<Vars> {
    const e = await this.evacuation();
    await this.admin("POST", `/evacuations/${e["evac"]}/action`, { "os-pause": {} }, 202);
    return e;
  }

  /** A pool no volume is in: nothing to move, so the driver ends it at its next tick. */
  async endedEvacuation(): Promise<Vars> {
    const body = { evacuation: { source: "rel@file-2#nopool", disable_source: false } };
    const evac = idOf(await this.admin("POST", "/evacuations", body, 202), "evacuation");
    await waitFor(async () => {
      const e = await this.admin("GET", `/evacuations/${evac}`, undefined, 200);
      return (e["evacuation"] as Json)["status"] === "completed";
    }, "the empty evacuation completed");
    return { evac };
  }

  volumeMetaKey(): Promise<Vars> {
    return this.keyOn("POST", `/volumes/${this.ids["vol"]}/metadata`, "metadata");
  }

  snapshotMetaKey(): Promise<Vars> {
    return this.keyOn("POST", `/snapshots/${this.ids["snap"]}/metadata`, "metadata");
  }

  async enableScheduler(): Promise<void> {
    await this.admin("PUT", "/os-services/enable", { host: "rel", binary: "cinder-scheduler" }, 200);
  }

  async waitVolumes(wanted: string[], status: string): Promise<void> {
    await waitFor(
      async () => {
        const list = (await this.admin("GET", "/volumes/detail?limit=10000", undefined, 200))[
          "volumes"
        ] as Json[];
        const seen = new Map(list.map((v) => [v["id"], v["status"]]));
        return wanted.every((id) => seen.get(id) === status);
      },
      `${wanted.length} volume(s) ${status}`,
      120_000,
      200,
    );
  }

  private take(): string {
    return this.pool.pop()!;
  }

  private async act(vol: string, name: string, args: unknown): Promise<void> {
    await this.admin("POST", `/volumes/${vol}/action`, { [name]: args }, 202);
  }

  private async keyOn(method: string, path: string, wrap: string): Promise<Vars> {
    const key = `k-${short()}`;
    await this.admin(method, path, { [wrap]: { [key]: "1" } }, 200);
    return { key };
  }

  private sparseFile(backend: string): string {
    const name = `m-${randomUUID()}`;
    const dir = path.join(this.stateDir, backend);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, name), "");
    fs.truncateSync(path.join(dir, name), 1 << 30);
    return name;
  }

  private async manage(backend: string): Promise<string> {
    const volume = { host: `rel@${backend}#${backend}`, ref: { "source-name": this.sparseFile(backend) } };
    const id = idOf(await this.admin("POST", "/os-volume-manage", { volume }, 202), "volume");
    this.volumeIds.push(id);
    return id;
  }

  private async manageMany(n: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i += 8) {
      const batch = Array.from({ length: Math.min(8, n - i) }, () => this.manage("file-1"));
      out.push(...(await Promise.all(batch)));
    }
    await this.waitVolumes(out, "available");
    return out;
  }

  /** Volumes no backend can take (their type names none): each leaves its owner a user message. */
  private async makeMessages(n: number): Promise<string[]> {
    const made: string[] = [];
    for (let i = 0; i < n; i++) {
      const body = { volume: { size: 1, volume_type: "rel-nowhere" } };
      made.push(idOf(await this.admin("POST", "/volumes", body, 202), "volume"));
    }
    const found = await waitFor(async () => {
      const list = (await this.admin("GET", "/messages", undefined, 200))["messages"] as Json[];
      const ours = list.filter((m) => made.includes(m["resource_uuid"] as string));
      return ours.length === n && ours;
    }, `${n} user message(s)`);
    return found.map((m) => m["id"] as string);
  }
}

/** Every Maker the table names is a method of World (a compile error otherwise). */
const everyMakerExists: [Exclude<Maker, keyof World>] extends [never] ? true : false = true;
void everyMakerExists;
