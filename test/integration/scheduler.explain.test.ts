/**
 * Why a named destination was refused: the scheduler's log line behind Cinder's opaque "Cannot place
 * volume … on …" (a CI run once failed on that message with nothing to say why).
 */
import { ServiceBinary } from "../../common/states";
import { reportService, type ServiceCapabilities } from "../../db/services";
import { explainNoPlacement } from "../../services/scheduler/explain";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t.drop());

function caps(pool: string, free: number): ServiceCapabilities {
  return {
    volume_backend_name: pool,
    vendor_name: "Open Source",
    driver_version: "1.0.0",
    storage_protocol: "file",
    timestamp: new Date().toISOString(),
    pools: [
      {
        pool_name: pool,
        total_capacity_gb: 10,
        free_capacity_gb: free,
        allocated_capacity_gb: 0,
        provisioned_capacity_gb: 0,
        reserved_percentage: 0,
        max_over_subscription_ratio: 1,
        thin_provisioning_support: false,
        thick_provisioning_support: true,
        QoS_support: false,
        multiattach: false,
        location_info: "x",
        tier: "gold",
      },
    ],
  };
}

async function service(host: string, free: number): Promise<void> {
  const pool = host.split("@")[1]!;
  await reportService(
    t.db,
    { host, binary: ServiceBinary.VOLUME, topic: "cinder-volume", availabilityZone: "nova" },
    caps(pool, free),
  );
}

const size1 = { size: 1, extraSpecs: {} };

test("a service whose last heartbeat is older than service_down_time is down, with when it last reported", async () => {
  await service("n@stale", 5);
  await t
    .db("services")
    .where({ host: "n@stale" })
    .update({ updated_at: t.db.raw("now() - interval '40 seconds'") });
  const why = await explainNoPlacement(t.db, 15, { backend: "n@stale", pool: null }, size1);
  expect(why).toHaveLength(1);
  expect(why[0]).toMatch(/^n@stale: down \(last heartbeat \d{4}-\d\d-\d\dT.*, service_down_time 15 s\)$/);
});

test("disabled, full, mismatched, unknown, and a pool the backend does not have", async () => {
  await service("n@off", 5);
  await t.db("services").where({ host: "n@off" }).update({ disabled: true });
  await service("n@full", 0.5);
  await service("n@silver", 5);
  expect(await explainNoPlacement(t.db, 60, { backend: "n@off", pool: null }, size1)).toEqual([
    "n@off: disabled",
  ]);
  expect((await explainNoPlacement(t.db, 60, { backend: "n@full", pool: null }, size1))[0]).toMatch(
    /^n@full#full: capacity \(free 0.5 GiB of 10, .* wants 1 GiB\)$/,
  );
  expect(
    await explainNoPlacement(
      t.db,
      60,
      { backend: "n@silver", pool: null },
      { size: 1, extraSpecs: { tier: "silver" } },
    ),
  ).toEqual(['n@silver#silver: capabilities do not match {"tier":"silver"}']);
  expect(await explainNoPlacement(t.db, 60, { backend: "n@nowhere", pool: null }, size1)).toEqual([
    "no volume service is named n@nowhere",
  ]);
  expect(await explainNoPlacement(t.db, 60, { backend: "n@silver", pool: "other" }, size1)).toEqual([
    "no pool of n@silver matches other",
  ]);
});
