/**
 * Clusters: GET /clusters[/detail] and /clusters/{name} (3.7+, admin), and os-migrate_volume to a
 * cluster (3.16+) or to a host that belongs to one (cinder-behaviour §1.2 step 5).
 */
import {
  action,
  addVolume,
  addVolumeService,
  api,
  type Harness,
  makeServiceDown,
  MEMBER,
  setService,
  startHarness,
  stateOf,
} from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await addVolumeService(h, "node@lvm");
  await addVolumeService(h, "c1-a@lvm", { cluster: "c1@lvm" });
  await addVolumeService(h, "c1-b@lvm", { cluster: "c1@lvm" });
  await makeServiceDown(h, "c1-b@lvm");
  await addVolumeService(h, "c2-a@lvm", { cluster: "c2@lvm" });
  await makeServiceDown(h, "c2-a@lvm");
  await addVolumeService(h, "c3-a@lvm", { cluster: "c3@lvm" });
  await setService(h, "c3-a@lvm", { disabled: true, disabled_reason: "drained" });
});
afterAll(async () => h.close());
beforeEach(() => {
  h.casts.length = 0;
});

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/;
const GENERIC = (id: string): string =>
  `Invalid volume: Volume ${id} status must be available or in-use, must not be migrating, have snapshots, ` +
  "be replicated, be part of a group and destination host/cluster must be different than the current one";

describe("GET /clusters", () => {
  test("summary and detail shapes at 3.7; replication fields from 3.26", async () => {
    const res = await api(h, "get", "/v3/demo/clusters", { version: "3.7" });
    expect(res.status).toBe(200);
    expect(res.body.clusters).toEqual([
      { name: "c1@lvm", binary: "cinder-volume", state: "up", status: "enabled" },
      { name: "c2@lvm", binary: "cinder-volume", state: "down", status: "enabled" },
      { name: "c3@lvm", binary: "cinder-volume", state: "up", status: "disabled" },
    ]);
    const detail = await api(h, "get", "/v3/clusters/detail", { version: "3.7" });
    const c1 = detail.body.clusters[0];
    expect(Object.keys(c1).sort()).toEqual(
      [
        "name",
        "binary",
        "state",
        "status",
        "num_hosts",
        "num_down_hosts",
        "last_heartbeat",
        "created_at",
        "updated_at",
        "disabled_reason",
      ].sort(),
    );
    expect(c1).toMatchObject({ num_hosts: 2, num_down_hosts: 1, disabled_reason: null, updated_at: "" });
    expect(c1.last_heartbeat).toMatch(TIME);
    expect(detail.body.clusters[2]).toMatchObject({ status: "disabled", disabled_reason: "drained" });

    const v326 = await api(h, "get", "/v3/demo/clusters/detail", { version: "3.26" });
    expect(v326.body.clusters[0]).toMatchObject({
      replication_status: "disabled",
      frozen: false,
      active_backend_id: null,
    });
    const summary326 = await api(h, "get", "/v3/demo/clusters", { version: "3.26" });
    expect(summary326.body.clusters[0]).toEqual({
      name: "c1@lvm",
      binary: "cinder-volume",
      state: "up",
      status: "enabled",
      replication_status: "disabled",
    });
  });

  test("filters, and Cinder's 400 for keys it does not know", async () => {
    const up = await api(h, "get", "/v3/demo/clusters?is_up=false", { version: "3.7" });
    expect(up.body.clusters.map((c: { name: string }) => c.name)).toEqual(["c2@lvm"]);
    const named = await api(h, "get", "/v3/demo/clusters?name=c1", { version: "3.7" });
    expect(named.body.clusters.map((c: { name: string }) => c.name)).toEqual(["c1@lvm"]);
    const hosts = await api(h, "get", "/v3/demo/clusters?num_hosts=2", { version: "3.7" });
    expect(hosts.body.clusters).toHaveLength(1);
    const bad = await api(h, "get", "/v3/demo/clusters?frozen=true", { version: "3.7" });
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toBe("Invalid input received: Invalid filter keys: frozen");
    const boolean = await api(h, "get", "/v3/demo/clusters?is_up=maybe", { version: "3.7" });
    expect(boolean.body.badRequest.message).toBe("Value 'maybe' for 'is_up' is not a boolean.");
  });

  test("show by name; unknown names are 404", async () => {
    const res = await api(h, "get", "/v3/demo/clusters/c1@lvm", { version: "3.7" });
    expect(res.body.cluster).toMatchObject({ name: "c1@lvm", num_hosts: 2 });
    const missing = await api(h, "get", "/v3/demo/clusters/nope@lvm?binary=cinder-volume", {
      version: "3.7",
    });
    expect(missing.status).toBe(404);
    expect(missing.body.itemNotFound.message).toBe(
      "Cluster {'binary': 'cinder-volume', 'name': 'nope@lvm'} could not be found.",
    );
  });

  test("below 3.7 the resource does not exist; members are refused", async () => {
    const old = await api(h, "get", "/v3/demo/clusters", { version: "3.6" });
    expect(old.status).toBe(404);
    expect(old.body).toEqual({ itemNotFound: { code: 404, message: "The resource could not be found." } });
    const member = await api(h, "get", "/v3/demo/clusters/detail", { version: "3.7", token: MEMBER });
    expect(member.status).toBe(403);
    expect(member.body.forbidden.message).toBe("Policy doesn't allow clusters:get_all to be performed.");
  });
});

describe("os-migrate_volume to a cluster", () => {
  const migrate = (id: string, body: Record<string, unknown>, version?: string) =>
    action(h, id, { "os-migrate_volume": body }, { version });

  test.each([
    [{ cluster: "c1@lvm" }, "c1@lvm"],
    [{ cluster: "c1@lvm#lvm", host: null }, "c1@lvm#lvm"],
    [{ cluster: "c1@lvm", host: "" }, "c1@lvm"],
    // A host that belongs to a cluster becomes a cluster migration; its pool is kept.
    [{ host: "c1-a@lvm#lvm" }, "c1@lvm#lvm"],
    [{ host: "c1-a@lvm" }, "c1@lvm"],
    [{ host: "node@lvm#lvm", cluster: "" }, "node@lvm#lvm"],
  ])("3.16 %j → 202, scheduler told %p", async (body, backend) => {
    const v = await addVolume(h, { host: "other@lvm#lvm" });
    const res = await migrate(v.id, body, "3.16");
    expect(res.status).toBe(202);
    await h.flush();
    expect(h.casts).toEqual([
      expect.objectContaining({ method: "migrate_volume", args: expect.objectContaining({ backend }) }),
    ]);
    const [m] = await h.t.db("migrations").where({ volume_id: v.id });
    const sent = body as { cluster?: string | null; host?: string | null };
    expect(m.requested_dest).toBe(sent.cluster || sent.host);
  });

  test.each(["3.0", "3.15", "3.16"])("a host at %s → 202 and migstat starting", async (version) => {
    const v = await addVolume(h, { host: "other@lvm#lvm" });
    const res = await migrate(v.id, { host: "node@lvm" }, version);
    expect(res.status).toBe(202);
    const shown = await api(h, "get", `/v3/demo/volumes/${v.id}`, { version });
    expect(shown.body.volume["os-vol-mig-status-attr:migstat"]).toBe("starting");
  });

  test.each([
    ["unknown cluster", { cluster: "c9@lvm" }, "Invalid host: No available service named 'c9@lvm'"],
    ["cluster without backend", { cluster: "c1" }, "Invalid host: No available service named 'c1'"],
    [
      "cluster whose services are down",
      { cluster: "c2@lvm" },
      "Invalid host: No available service named 'c2@lvm'",
    ],
    ["disabled cluster", { cluster: "c3@lvm#lvm" }, "Invalid host: No available service named 'c3@lvm#lvm'"],
    ["host of a down cluster", { host: "c2-a@lvm" }, "Invalid host: No available service named 'c2-a@lvm'"],
    [
      "neither",
      { host: null, cluster: null },
      "Invalid input received: One and only one of cluster and host must be set.",
    ],
    ["the cluster the volume is in", { cluster: "c1@lvm" }, GENERIC],
    ["its pool in that cluster", { cluster: "c1@lvm#lvm" }, GENERIC],
    ["a host of that cluster", { host: "c1-a@lvm" }, GENERIC],
  ])("%s → 400, nothing changes", async (_name, body, message) => {
    const v = await addVolume(h, { host: "c1-a@lvm#lvm", cluster_name: "c1@lvm" });
    const before = await stateOf(h, v.id);
    const res = await migrate(v.id, body, "3.16");
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(typeof message === "function" ? message(v.id) : message);
    await h.flush();
    expect(await stateOf(h, v.id)).toEqual(before);
    expect(h.casts).toEqual([]);
  });

  test("another pool of the volume's own cluster is a real move", async () => {
    const v = await addVolume(h, { host: "c1-a@lvm#lvm", cluster_name: "c1@lvm" });
    const res = await migrate(v.id, { cluster: "c1@lvm#fast" }, "3.16");
    expect(res.status).toBe(202);
  });

  test.each([
    ["active", 400],
    ["enabled", 400],
    ["not-capable", 202],
    ["disabled", 202],
  ])("replication_status %s → %i", async (replication, status) => {
    const v = await addVolume(h, { host: "other@lvm#lvm", replication_status: replication });
    const res = await migrate(v.id, { cluster: "c1@lvm" }, "3.16");
    expect(res.status).toBe(status);
  });
});
