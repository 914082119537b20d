import { parseConfig } from "../../common/config";
import type { MigrationRow } from "../../db/migrationRecords";
import { decide, type RecoveryAction, type TempVolumeState } from "../../services/volume/recovery";

const withNova = parseConfig(
  "[nova]\nendpoint_override = http://127.0.0.1:8774/v2.1\ntoken = t\nswap_timeout_secs = 600\n",
  {},
);
const withoutNova = parseConfig("", {});

function migration(m: Partial<MigrationRow>): MigrationRow {
  return {
    id: "m",
    volume_id: "v",
    state: "migrating",
    kind: "migrate",
    flow: "generic",
    new_volume_type_id: null,
    source_host: "h@a#a",
    requested_dest: "h@b",
    dest_host: "h@b#b",
    temp_volume_id: null,
    force_host_copy: false,
    lock_volume: false,
    bytes_total: null,
    bytes_done: 0,
    rate_bps: null,
    source_checksum: null,
    dest_checksum: null,
    error: null,
    bps_limit: null,
    eta_seconds: null,
    cancel_requested_at: null,
    checkpoint: null,
    compression: null,
    transport: null,
    user_id: null,
    request_id: null,
    global_request_id: null,
    created_at: new Date(0),
    updated_at: null,
    started_at: new Date(0),
    finished_at: null,
    ...m,
  };
}

const checkpoint = { offset: 256 << 20, state: ["d0"] };
const ready: TempVolumeState = { status: "available", migration_target_of: "v" };

test.each<[string, Partial<MigrationRow>, TempVolumeState | undefined, RecoveryAction]>([
  ["a generic copy without a checkpoint rolls back", { temp_volume_id: "t" }, ready, "rolled-back"],
  ["a checkpointed copy resumes", { temp_volume_id: "t", checkpoint }, ready, "resume-copy"],
  ["a checkpointed copy without its temp volume rolls back", { checkpoint }, undefined, "rolled-back"],
  [
    "a checkpointed copy whose temp volume is not available rolls back",
    { temp_volume_id: "t", checkpoint },
    { ...ready, status: "error" },
    "rolled-back",
  ],
  [
    "a checkpointed copy whose temp volume targets another volume rolls back",
    { temp_volume_id: "t", checkpoint },
    { ...ready, migration_target_of: "other" },
    "rolled-back",
  ],
  [
    "a checkpointed copy cancelled while the worker was down rolls back",
    { temp_volume_id: "t", checkpoint, cancel_requested_at: new Date(1) },
    ready,
    "rolled-back",
  ],
  [
    "a checkpointed copy already completing rolls back",
    { state: "completing", temp_volume_id: "t", checkpoint },
    ready,
    "rolled-back",
  ],
  ["a migration that never began rolls back", { state: "starting", flow: null }, undefined, "rolled-back"],
  ["a driver move resumes", { flow: "driver" }, undefined, "resume-driver"],
])("%s", (_name, m, temp, want) => {
  expect(decide(migration(m), withNova, Date.now(), temp)).toBe(want);
});

test("a Nova swap waits for Nova's callback until swap_timeout_secs, then rolls back", () => {
  const started = new Date(1_000_000);
  const m = migration({ flow: "compute", started_at: started });
  expect(decide(m, withNova, started.getTime() + 599_000)).toBe("wait-for-nova");
  expect(decide(m, withNova, started.getTime() + 601_000)).toBe("rolled-back");
  expect(decide(m, withoutNova, started.getTime() + 1)).toBe("rolled-back");
});
