/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core; nothing is
 * downloaded) against a real all-in-one process on its embedded database, noauth:
 *
 * - sign in as admin; every view renders; the token stays in sessionStorage and out of every URL;
 * - migrate a volume from the page and watch its bar pass through the middle to 100 % with no
 *   reload and no polling (the live events carry it);
 * - start another, change its bandwidth limit, cancel it;
 * - preview an evacuation's plan (dry run), run it, watch it to its report;
 * - with the event stream blocked the page says so and polls every 5 s;
 * - sign in as a member: no admin view, no admin action;
 * - disk drains seeded in a Postgres database (a raw-file backend refuses a real one) behind an API
 *   process of their own: the rows with their progress, and Cancel sends os-cancel.
 *
 * Screenshots of each view (1280×800, and 390×844 phones) go to test/browser/artifacts/.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { type Browser, chromium, type Page, type Request } from "playwright-core";

import type { Updates } from "../../db/conditional";
import { type DiskDrainRow, insertDiskDrain, updateDiskDrainIf } from "../../db/diskDrains";
import { createTestDatabase } from "../helpers/db";
import { freePort, type ServiceProcess, startProcess } from "../helpers/processes";
import { waitFor } from "../helpers/stack";

const ARTIFACTS = path.resolve(__dirname, "artifacts");
const CHROMIUM = process.env["VMS_CHROMIUM"] ?? "/usr/bin/chromium";
const MiB = 1024 * 1024;
/** Every copy's default limit: a 1 GiB volume takes about 30 s, long enough to see its bar move. */
const COPY_BPS = 32 * MiB;

let proc: ServiceProcess;
let stateDir: string;
let base: string;
let browser: Browser;
let page: Page;
/** Every URL the page requested, to check that no token ever went into one. */
const urls: string[] = [];
const volumes: Record<string, string> = {};
/** Uncaught errors in the page (none expected). */
const pageErrors: string[] = [];

async function api<T = Record<string, unknown>>(
  method: string,
  p: string,
  body?: unknown,
  token = "admin:demo",
): Promise<T> {
  const res = await fetch(`${base}/v3/demo${p}`, {
    method,
    headers: { "X-Auth-Token": token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`${method} ${p}: ${res.status} ${text}`);
  }
  return (text ? JSON.parse(text) : {}) as T;
}

async function createVolume(name: string, size: number, token = "admin:demo"): Promise<string> {
  const { volume } = await api<{ volume: { id: string } }>(
    "POST",
    "/volumes",
    { volume: { name, size } },
    token,
  );
  await waitFor(
    async () =>
      (await api<{ volume: { status: string } }>("GET", `/volumes/${volume.id}`)).volume.status ===
      "available",
    `${name} available`,
    60_000,
    250,
  );
  return volume.id;
}

interface MigrationView {
  id: string;
  volume_id: string;
  state: string;
  bps_limit: number | null;
  error: string | null;
}

async function migrationOf(volumeId: string): Promise<MigrationView | undefined> {
  return (await api<{ migrations: MigrationView[] }>("GET", `/migrations?volume_id=${volumeId}`))
    .migrations[0];
}

async function shot(name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage });
}

async function view(name: string): Promise<void> {
  await page.getByRole("navigation", { name: "Views" }).getByRole("link", { name, exact: true }).click();
}

async function signIn(user: string, project = "demo"): Promise<void> {
  await page.getByLabel("User").fill(user);
  await page.getByLabel("Project").fill(project);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("status").filter({ hasText: "Live" }).waitFor({ timeout: 20_000 });
}

/** The card of a running (or just finished) migration, by its volume's name. */
const card = (name: string) =>
  page.locator("article.migration").filter({ has: page.getByRole("heading", { name }) });

async function migrateFromPage(name: string): Promise<void> {
  await view("Volumes");
  await page.getByRole("button", { name: `Migrate ${name}` }).click();
  const dest = page.getByLabel("Destination pool");
  // The pools come from get_pools: the first one offered is another pool than the volume's.
  await waitFor(async () => (await dest.inputValue()) !== "", "a destination pool offered", 20_000);
  await page.getByRole("button", { name: "Migrate", exact: true }).click();
  await page.getByText("Migration requested").waitFor();
  await page.getByRole("button", { name: "Close" }).click();
}

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-browser-"));
  const port = await freePort();
  const conf = path.join(stateDir, "cinder.conf");
  fs.writeFileSync(
    conf,
    [
      "[DEFAULT]",
      "host = demo",
      `state_path = ${stateDir}`,
      "transport_url = memory://",
      "auth_strategy = noauth",
      "noauth_admin_users = admin",
      "enabled_backends = file-1, file-2",
      "report_interval = 5",
      "service_down_time = 60",
      "osapi_volume_listen = 127.0.0.1",
      `osapi_volume_listen_port = ${port}`,
      `volume_copy_bps_limit = ${COPY_BPS}`,
      "[database]",
      "connection = pglite://$state_path/db",
      ...["file-1", "file-2"].flatMap((b) => [
        `[${b}]`,
        "volume_driver = rawfile",
        `volume_backend_name = ${b}`,
        `rawfile_directory = $state_path/${b}`,
        "rawfile_native_migration = false",
      ]),
    ].join("\n"),
  );
  proc = await startProcess(["all", "--config", conf], { readyLine: /The dashboard: http\S+/ });
  base = `http://127.0.0.1:${port}`;
  expect(proc.output()).toContain(`The dashboard: ${base}/dashboard/`);

  volumes["watch-me"] = await createVolume("watch-me", 1);
  volumes["cancel-me"] = await createVolume("cancel-me", 2);
  volumes["evac-me"] = await createVolume("evac-me", 1);
  volumes["members-own"] = await createVolume("members-own", 1, "alice:demo");

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("request", (r: Request) => urls.push(r.url()));
  page.on("pageerror", (e) => pageErrors.push(e.message));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await proc?.stop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

test("sign in as admin: every view, live events, the token only in sessionStorage", async () => {
  await page.goto(`${base}/dashboard/`);
  await page.getByRole("heading", { name: "Volume migrations" }).waitFor();
  await shot("signin", false);
  await signIn("admin");
  const nav = page.getByRole("navigation", { name: "Views" });
  for (const name of ["Migrations", "Evacuations", "Volumes", "Pools", "Services"]) {
    await expect(nav.getByRole("link", { name }).count()).resolves.toBe(1);
  }

  await view("Pools");
  await page.getByRole("heading", { name: "demo@file-1#file-1" }).waitFor();
  await page.getByRole("heading", { name: "demo@file-2#file-2" }).waitFor();
  await shot("pools");

  await view("Services");
  await page.getByRole("cell", { name: "demo@file-1", exact: true }).waitFor();
  await shot("services");

  await view("Volumes");
  await page.getByText("cancel-me", { exact: true }).waitFor();
  await shot("volumes");

  // (Expressions as strings: this file is compiled without the DOM's types.)
  const storage = await page.evaluate("({ session: sessionStorage.length, local: localStorage.length })");
  expect(storage).toEqual({ session: 1, local: 0 });
  expect(await page.evaluate("document.cookie")).toBe("");
}, 60_000);

test("a migration started from the page: its bar moves and reaches 100 % without a reload or polling", async () => {
  // A marker on the window: gone if the page ever reloads.
  await page.evaluate("window.vmsMarker = true");
  await migrateFromPage("watch-me");
  await view("Migrations");
  const bar = card("watch-me").getByRole("progressbar", { name: "Migration of watch-me" });
  await bar.waitFor();
  const listReads = () => urls.filter((u) => /\/v3\/demo\/migrations(\?|$)/.test(u)).length;
  const readsBefore = listReads();

  const seen: number[] = [];
  let midShot = false;
  await waitFor(
    async () => {
      const now = await bar.getAttribute("aria-valuenow");
      if (now !== null) {
        seen.push(Number(now));
      }
      if (!midShot && Number(now) >= 20 && Number(now) <= 80) {
        midShot = true;
        await shot("migrations");
      }
      return Number(now) >= 100;
    },
    "watch-me's bar at 100 %",
    240_000,
    250,
  );
  expect(seen.some((p) => p > 0 && p < 100)).toBe(true);
  await card("watch-me").getByText("success").waitFor();
  expect(await page.evaluate("window.vmsMarker")).toBe(true);
  // Live: the list was not read again every few seconds while the copy ran (the events carried it).
  expect(listReads() - readsBefore).toBeLessThanOrEqual(2);
  expect((await migrationOf(volumes["watch-me"]!))?.state).toBe("success");
  // The finished one is in the history, with both checksums equal.
  const row = page.locator("#history tr").filter({ hasText: "watch-me" });
  await row.getByText("match").waitFor();
}, 300_000);

test("another migration: change its bandwidth limit from the page, then cancel it", async () => {
  await migrateFromPage("cancel-me");
  await view("Migrations");
  const c = card("cancel-me");
  await c.waitFor();
  await c.getByLabel("Bandwidth limit of cancel-me (MiB/s)").fill("1");
  await c.getByRole("button", { name: "Set limit" }).click();
  await c.getByText("1 MiB/s", { exact: true }).waitFor({ timeout: 10_000 });
  expect((await migrationOf(volumes["cancel-me"]!))?.bps_limit).toBe(MiB);
  await shot("migration-limited");

  await c.getByRole("button", { name: "Cancel the migration of cancel-me" }).click();
  await c.getByRole("button", { name: "Yes, cancel it" }).click();
  await c
    .getByText(/Cancel requested|cancelled/)
    .first()
    .waitFor();
  await c.getByText("error", { exact: true }).waitFor({ timeout: 60_000 });
  await c.getByText(/cancelled: by an administrator/).waitFor();
  const m = await migrationOf(volumes["cancel-me"]!);
  expect(m?.state).toBe("error");
  expect(m?.error).toMatch(/cancelled/);
  const v = await api<{ volume: Record<string, string> }>("GET", `/volumes/${volumes["cancel-me"]}`);
  expect(v.volume["status"]).toBe("available");
}, 180_000);

test("an evacuation: preview its plan, run it, follow it to its report", async () => {
  // Volumes with snapshots stay where they are (the plan says why): only evac-me moves, quickly.
  const kept = ["cancel-me", "members-own"];
  for (const name of kept) {
    const { snapshot } = await api<{ snapshot: { id: string } }>("POST", "/snapshots", {
      snapshot: { volume_id: volumes[name], name: `${name}-snap` },
    });
    await waitFor(
      async () =>
        (await api<{ snapshot: { status: string } }>("GET", `/snapshots/${snapshot.id}`)).snapshot.status ===
        "available",
      `${name}'s snapshot available`,
      60_000,
      250,
    );
  }
  const hostOf = async (name: string) =>
    (await api<{ volume: Record<string, string> }>("GET", `/volumes/${volumes[name]}`)).volume[
      "os-vol-host-attr:host"
    ]!;
  const source = (await hostOf("evac-me")).split("#")[0]!;
  await view("Evacuations");
  await page.getByLabel("Source", { exact: true }).fill(source);
  // Faster than the backends' default limit.
  await page.getByLabel("Bandwidth limit (MiB/s)").fill("500");
  await page.getByRole("button", { name: "Preview plan" }).click();
  const plan = page.locator(".plan");
  await plan.getByRole("heading", { name: `Plan for ${source}` }).waitFor();
  const planned = plan.locator("tr").filter({ hasText: "evac-me" });
  await planned.getByText("to move").waitFor();
  await expect(plan.getByRole("status").textContent()).resolves.toMatch(/\d+ volumes: \d+ to move/);
  for (const name of kept) {
    if ((await hostOf(name)).startsWith(`${source}#`)) {
      const row = plan.locator("tr").filter({ hasText: name });
      await row.getByText("skipped").waitFor();
      await row.getByText("has snapshots").waitFor();
    }
  }
  await shot("evacuation-plan");
  // The dry run stored nothing.
  expect((await api<{ evacuations: unknown[] }>("GET", "/evacuations")).evacuations).toEqual([]);

  await plan.getByRole("button", { name: "Run this evacuation" }).click();
  const detail = page.locator("#evacuation-detail");
  await detail.getByRole("heading", { name: `Evacuation of ${source}` }).waitFor();
  const total = detail.getByRole("progressbar", { name: `Evacuation of ${source}` });
  await total.waitFor();
  const item = detail.locator("tr").filter({ hasText: "evac-me" });
  await item.getByText(/running|succeeded/).waitFor({ timeout: 60_000 });
  await shot("evacuation-running");
  await detail.getByText("completed", { exact: true }).waitFor({ timeout: 300_000 });
  expect(await total.getAttribute("aria-valuenow")).toBe("100");
  await item.getByText("succeeded").waitFor();
  await detail.getByText("Volumes moved").waitFor();
  await shot("evacuations");
  const moved = await api<{ volume: Record<string, string> }>("GET", `/volumes/${volumes["evac-me"]}`);
  expect(moved.volume["os-vol-host-attr:host"]!.startsWith(`${source}#`)).toBe(false);

  await page.setViewportSize({ width: 390, height: 844 });
  await shot("evacuations-phone");
  await view("Migrations");
  await page.getByRole("heading", { name: "History" }).waitFor();
  await shot("migrations-phone");
  await page.setViewportSize({ width: 1280, height: 800 });
}, 420_000);

test("when the event stream is cut the page says so and polls every 5 s", async () => {
  await page.route("**/events", (r) => r.abort());
  await page.reload();
  await page.getByRole("status").filter({ hasText: "Reconnecting" }).waitFor({ timeout: 20_000 });
  const reads = () => urls.filter((u) => /\/v3\/demo\/migrations(\?|$)/.test(u)).length;
  const before = reads();
  await page.waitForTimeout(11_000);
  expect(reads() - before).toBeGreaterThanOrEqual(2);
  await page.unroute("**/events");
  await page.getByRole("status").filter({ hasText: "Live" }).waitFor({ timeout: 90_000 });
}, 150_000);

test("a member sees no admin view and no admin action", async () => {
  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn("alice");
  const nav = page.getByRole("navigation", { name: "Views" });
  await expect(nav.getByRole("link").allTextContents()).resolves.toEqual(["Volumes"]);
  await page.getByText("members-own", { exact: true }).waitFor();
  await expect(page.getByRole("button", { name: /^Migrate/ }).count()).resolves.toBe(0);
  await expect(page.getByLabel("Pool", { exact: true }).count()).resolves.toBe(0);
  await expect(page.getByRole("columnheader", { name: "Pool" }).count()).resolves.toBe(0);
  // An admin view asked by its address falls back to the member's only one.
  await page.goto(`${base}/dashboard/#/migrations`);
  await page.getByRole("heading", { name: "Volumes" }).waitFor();
  await expect(
    page.getByRole("button", { name: /Cancel|Set limit|Disable|Enable|Preview plan/ }).count(),
  ).resolves.toBe(0);
  await shot("member-volumes");
  await page.setViewportSize({ width: 390, height: 844 });
  await shot("member-volumes-phone");
}, 60_000);

test("disk drains: each drain's progress, rate, ETA, resumes and error; Cancel sends os-cancel", async () => {
  // pvmove needs an LVM backend: seed the rows with the service's db layer in a Postgres database,
  // and serve them with an API process of its own (no volume worker: a cancel stays "cancelling").
  const tdb = await createTestDatabase();
  const GiB = 1024 * MiB;
  const drain = async (backend: string, pv: string, values: Updates<DiskDrainRow>) => {
    const row = await insertDiskDrain(tdb.db, {
      backend,
      pv,
      vg: `cinder-${backend.split("@")[1]}`,
      remove_from_group: true,
      interval: 5,
      bytes_total: 8 * GiB,
      project_id: "demo",
      user_id: "admin",
    });
    return (await updateDiskDrainIf(tdb.db, row!.id, values, { status: "pending" }))!;
  };
  const moving = await drain("lab@lvm-a3", "/dev/ubdd", {
    status: "moving",
    percent: 37.5,
    bytes_moved: 3 * GiB,
    rate_bps: 50_000_000,
    resumes: 1,
    started_at: new Date(Date.now() - 60_000),
  });
  await drain("lab@lvm-b1", "/dev/sdc", {
    status: "failed",
    percent: 12.5,
    bytes_moved: GiB,
    error: "pvmove exited 5: Insufficient free space",
    started_at: new Date(Date.now() - 3_600_000),
    finished_at: new Date(Date.now() - 3_000_000),
  });

  const port = await freePort();
  const conf = path.join(stateDir, "drains.conf");
  fs.writeFileSync(
    conf,
    [
      "[DEFAULT]",
      "host = drains",
      `state_path = ${stateDir}`,
      "transport_url = memory://",
      "auth_strategy = noauth",
      "noauth_admin_users = admin",
      "osapi_volume_listen = 127.0.0.1",
      `osapi_volume_listen_port = ${port}`,
      "[database]",
      `connection = ${tdb.url}`,
    ].join("\n"),
  );
  const apiProc = await startProcess(["api", "--config", conf], { readyLine: /The dashboard: http\S+/ });
  const own = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const ownUrls: string[] = [];
  const ownErrors: string[] = [];
  const actions: string[] = [];
  own.on("request", (r: Request) => {
    ownUrls.push(r.url());
    if (r.method() === "POST" && r.url().endsWith("/action")) {
      actions.push(`${new URL(r.url()).pathname} ${r.postData() ?? ""}`);
    }
  });
  own.on("pageerror", (e) => ownErrors.push(e.message));
  try {
    await own.goto(`http://127.0.0.1:${port}/dashboard/#/drains`);
    await own.getByLabel("User").fill("admin");
    await own.getByLabel("Project").fill("demo");
    await own.getByRole("button", { name: "Sign in" }).click();
    await own.getByRole("link", { name: "Disk drains", exact: true }).waitFor();
    await own.getByRole("heading", { name: "Disk drains (1 active)" }).waitFor();

    const row = own.locator("#disk-drains tr").filter({ hasText: "/dev/ubdd" });
    await row.getByText("lab@lvm-a3", { exact: true }).waitFor();
    await row.getByText("moving", { exact: true }).waitFor();
    const bar = row.getByRole("progressbar", { name: "Drain of /dev/ubdd on lab@lvm-a3" });
    expect(await bar.getAttribute("aria-valuenow")).toBe("37.5");
    await row.getByText("37.5 %").waitFor();
    await row.getByText("3.0 GiB of 8.0 GiB").waitFor();
    await row.getByText("50.0 MB/s").waitFor();
    // (8 - 3) GiB at 50 MB/s: 108 s.
    await row.getByText("ETA 1 min 48 s").waitFor();
    await expect(row.locator('td[data-label="Resumes"]').textContent()).resolves.toBe("1");

    const failed = own.locator("#disk-drains tr").filter({ hasText: "/dev/sdc" });
    await failed.getByText("failed", { exact: true }).waitFor();
    await failed.getByText("pvmove exited 5: Insufficient free space").waitFor();
    await expect(failed.getByRole("button", { name: /Cancel/ }).count()).resolves.toBe(0);
    await own.screenshot({ path: path.join(ARTIFACTS, "disk-drains.png"), fullPage: true });

    await row.getByRole("button", { name: "Cancel the drain of /dev/ubdd on lab@lvm-a3" }).click();
    await row.getByText(/Extents already moved stay moved/).waitFor();
    await row.getByRole("button", { name: "Yes, cancel it" }).click();
    await row.getByText("Cancel requested").waitFor({ timeout: 10_000 });
    await row.getByText("cancelling", { exact: true }).waitFor();
    expect(actions).toEqual([`/v3/demo/disk-drains/${moving.id}/action {"os-cancel":{}}`]);
    const res = await fetch(`http://127.0.0.1:${port}/v3/demo/disk-drains/${moving.id}`, {
      headers: { "X-Auth-Token": "admin:demo" },
    });
    expect(((await res.json()) as { disk_drain: { status: string } }).disk_drain.status).toBe("cancelling");
    await own.screenshot({ path: path.join(ARTIFACTS, "disk-drains-cancelling.png"), fullPage: true });

    await own.setViewportSize({ width: 390, height: 844 });
    await own.screenshot({ path: path.join(ARTIFACTS, "disk-drains-phone.png"), fullPage: true });
    expect(ownErrors).toEqual([]);
    expect(ownUrls.filter((u) => /admin:demo|admin%3Ademo/i.test(u))).toEqual([]);
  } finally {
    await own.close();
    await apiProc.stop();
    await tdb.drop();
  }
}, 240_000);

test("no token ever went into a URL, and the page threw nothing", () => {
  expect(pageErrors).toEqual([]);
  expect(urls.length).toBeGreaterThan(10);
  expect(urls.filter((u) => /admin:demo|alice:demo|admin%3Ademo|alice%3Ademo/i.test(u))).toEqual([]);
});
