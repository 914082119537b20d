/** PUT os-services/enable|disable|disable-log-reason (cinderclient's service-enable / service-disable). */
import { addVolumeService, api, type Harness, makeServiceDown, MEMBER, startHarness } from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await addVolumeService(h, "node@lvm");
  await addVolumeService(h, "node@old");
  await makeServiceDown(h, "node@old");
});
afterAll(async () => h.close());

const row = async (host: string) =>
  (await h.t.db("services").where({ host, binary: "cinder-volume" }).first()) as {
    disabled: boolean;
    disabled_reason: string | null;
    updated_at: Date;
  };
const put = (action: string, body: unknown, token?: string) =>
  api(h, "put", `/v3/demo/os-services/${action}`, { token }).send(body as object);

test("disable-log-reason, plain disable and enable change the row and answer as Cinder", async () => {
  const before = await row("node@lvm");
  const off = await put("disable-log-reason", {
    host: "node@lvm",
    binary: "cinder-volume",
    disabled_reason: "disk swap",
  });
  expect(off.status).toBe(200);
  expect(off.body).toEqual({
    host: "node@lvm",
    service: "",
    binary: "cinder-volume",
    status: "disabled",
    disabled: true,
    disabled_reason: "disk swap",
  });
  expect(await row("node@lvm")).toMatchObject({ disabled: true, disabled_reason: "disk swap" });
  // The heartbeat time is left alone: a disabled service stays up.
  expect((await row("node@lvm")).updated_at).toEqual(before.updated_at);

  const list = await api(h, "get", "/v3/demo/os-services?host=node@lvm");
  expect(list.body.services[0]).toMatchObject({
    status: "disabled",
    state: "up",
    disabled_reason: "disk swap",
  });

  const on = await put("enable", { host: "node@lvm", binary: "cinder-volume" });
  expect(on.status).toBe(200);
  expect(on.body).toMatchObject({ status: "enabled", disabled: false, disabled_reason: null });
  expect(await row("node@lvm")).toMatchObject({ disabled: false, disabled_reason: null });

  // A plain disable keeps the stored reason and sends none back.
  await h.t.db("services").where({ host: "node@old" }).update({ disabled_reason: "kept" });
  const plain = await put("disable", { host: "node@old", binary: "cinder-volume" });
  expect(plain.status).toBe(200);
  expect(plain.body).not.toHaveProperty("disabled_reason");
  expect(await row("node@old")).toMatchObject({ disabled: true, disabled_reason: "kept" });
});

test("refusals: member 403, unknown service 404, missing host, unknown action and bad bodies 400", async () => {
  const member = await put("disable", { host: "node@lvm", binary: "cinder-volume" }, MEMBER);
  expect(member.status).toBe(403);
  expect(member.body.forbidden.message).toContain("volume_extension:services:update");

  const unknown = await put("disable", { host: "node@nope", binary: "cinder-volume" });
  expect(unknown.status).toBe(404);
  expect(unknown.body.itemNotFound.message).toBe(
    "Service cinder-volume could not be found on host node@nope.",
  );

  const noHost = await put("enable", { binary: "cinder-volume" });
  expect(noHost.status).toBe(400);
  expect(noHost.body.badRequest.message).toBe("Invalid input received: Host field is missing.");

  const freeze = await put("freeze", { host: "node@lvm" });
  expect(freeze.status).toBe(400);
  expect(freeze.body.badRequest.message).toBe("Invalid input received: Unknown action");

  expect((await put("enable", { host: "node@lvm", binary: "cinder-volume", extra: 1 })).status).toBe(400);
  expect((await put("disable-log-reason", { host: "node@lvm", binary: "cinder-volume" })).status).toBe(400);
  expect(
    (await put("disable-log-reason", { host: "node@lvm", binary: "cinder-volume", disabled_reason: "  " }))
      .status,
  ).toBe(400);
  expect(await row("node@lvm")).toMatchObject({ disabled: false });
});
