/** Small pure pieces of the volume API whose exact behaviour matters to clients. */
import { metadataEtag } from "../../api/routes/volumeMetadata";
import { completionError } from "../../services/volumeApi/completionAction";
import { cinderMigrationStatus, isMigrating, userMetadata } from "../../services/volumeApi/volumeState";

describe("metadataEtag: md5 of Python's json.dumps({'metadata': …}), as Cinder computes it", () => {
  // Expected values computed with CPython's json.dumps and hashlib.md5.
  test.each([
    [{}, "28ea041cc3f26b287319d2de3c107b50"],
    [{ a: "1", b: "2" }, "5d4747d5048c7300ca6f947eedf5ecc9"],
    [{ "k\u00e9y": "v\u20ac", q: 'say "hi"\n' }, "23351f7c6dffacda8ecd22b222966a60"],
  ])("%j", (metadata, etag) => {
    expect(metadataEtag(metadata)).toBe(etag);
  });
});

describe("completionError: Nova's error flag read as the boolean it says", () => {
  test.each([
    [undefined, false],
    [null, false],
    [true, true],
    [false, false],
    ["True", true],
    [" yes ", true],
    ["t", true],
    ["false", false],
    ["0", false],
    ["anything", false],
    [1, false],
  ])("%p → %p", (value, expected) => {
    expect(completionError(value)).toBe(expected);
  });
});

describe("volume state as Cinder reads it", () => {
  test("migration status: target:<id> for temp volumes, idle set", () => {
    expect(cinderMigrationStatus({ migration_status: null, migration_target_of: "abc" })).toBe("target:abc");
    expect(cinderMigrationStatus({ migration_status: "success", migration_target_of: null })).toBe("success");
    expect(isMigrating({ migration_status: "success", migration_target_of: null })).toBe(false);
    expect(isMigrating({ migration_status: "deleting", migration_target_of: null })).toBe(false);
    expect(isMigrating({ migration_status: "completing", migration_target_of: null })).toBe(true);
    expect(isMigrating({ migration_status: null, migration_target_of: "abc" })).toBe(true);
  });

  test("user metadata leaves out the admin keys", () => {
    expect(userMetadata({ a: "1", readonly: "True", attached_mode: "rw" })).toEqual({ a: "1" });
    expect(userMetadata(null)).toEqual({});
  });
});
