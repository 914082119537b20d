/**
 * Rows and requests shared by the migrations-resource tests: migration rows written as the
 * workers would leave them, and POST /migrations/{id}/action.
 */
import { insertMigration, type MigrationRow } from "../../db/migrationRecords";
import { addVolume, ADMIN, type Harness, send, startHarness } from "./api.harness";

export const GiB = 1024 ** 3;

/** The harness with an API process that knows backend node@lvm (all-in-one style) and its default copy limit. */
export function startMigrationsHarness(): Promise<Harness> {
  return startHarness(
    "host = node\nenabled_backends = lvm\n[lvm]\nvolume_driver = rawfile\nrawfile_directory = /nonexistent/vms\nvolume_copy_bps_limit = 5000000\n",
  );
}

/** A migration row as a worker leaves it in `state` (created `ageMs` ago, to order them). */
export async function addMigration(
  h: Harness,
  values: Partial<MigrationRow> = {},
  opts: { sourceHost?: string; ageMs?: number } = {},
): Promise<MigrationRow> {
  const v = await addVolume(h, { host: opts.sourceHost ?? "node@lvm#lvm", migration_status: "migrating" });
  const m = await insertMigration(h.t.db, {
    volume_id: v.id,
    source_host: v.host!,
    requested_dest: "node@lvm2",
    dest_host: "node@lvm2#lvm2",
    force_host_copy: true,
    lock_volume: false,
    user_id: "admin",
  });
  await h.t
    .db("migrations")
    .where({ id: m.id })
    .update({
      created_at: h.t.db.raw(`now() - interval '${opts.ageMs ?? 0} milliseconds'`),
      ...values,
    });
  return (await h.t.db("migrations").where({ id: m.id }).first()) as MigrationRow;
}

export const rowOf = async (h: Harness, id: string): Promise<unknown> =>
  h.t.db("migrations").where({ id }).first();

export const migrationAction = (h: Harness, id: string, body: unknown, token = ADMIN, project = "demo/") =>
  send(h, "post", `/v3/${project}migrations/${id}/action`, body, { token });
