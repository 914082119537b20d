import { insertVolume, updateVolumeIf } from "../../db/volumes";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t.drop());

test("compare-and-swap changes a status only when the precondition holds", async () => {
  const v = await insertVolume(t.db, { size: 1, status: "available", project_id: "p", user_id: "u" });
  const miss = await updateVolumeIf(t.db, v.id, { status: "deleting" }, { status: "in-use" });
  expect(miss).toBeUndefined();
  const hit = await updateVolumeIf(
    t.db,
    v.id,
    { migration_status: "starting" },
    { migration_status: [null, "error"] },
  );
  expect(hit?.migration_status).toBe("starting");
  await expect(t.db("volumes").where({ id: v.id }).update({ status: "bogus" })).rejects.toThrow(
    /volumes_status_check/,
  );
});
