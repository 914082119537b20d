/**
 * The unmodified CLIs with Keystone password auth (clients.md §1b) against the all-in-one service
 * and its built-in Keystone: discovery and login at /identity/v3, the catalog's volumev3 endpoint,
 * then the API validating the token over HTTP and applying the admin role.
 */
import { run, tableValues } from "../helpers/cli";
import { type KeystoneStack, passwordArgs, startKeystoneStack } from "../tempest/stack";

let stack: KeystoneStack;

beforeAll(async () => {
  stack = await startKeystoneStack();
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

test("cinder get-pools as the Keystone admin lists both pools", async () => {
  const r = await run("cinder", [...passwordArgs(stack, stack.admin), "get-pools"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(tableValues(r.stdout, "name").sort()).toEqual(["tempest@file-1#file-1", "tempest@file-2#file-2"]);
});

test("openstack volume service list as the Keystone admin shows the scheduler and both workers", async () => {
  const r = await run("openstack", [
    ...passwordArgs(stack, stack.admin),
    "volume",
    "service",
    "list",
    "-f",
    "json",
  ]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const services = JSON.parse(r.stdout) as { Binary: string; Host: string }[];
  expect(services.map((s) => `${s.Binary} ${s.Host}`).sort()).toEqual([
    "cinder-scheduler tempest",
    "cinder-volume tempest@file-1",
    "cinder-volume tempest@file-2",
  ]);
});

test("a member gets 403 on get-pools, and can list the volumes of its project", async () => {
  const pools = await run("cinder", [...passwordArgs(stack, stack.member), "get-pools"]);
  expect(pools.code).toBe(1);
  expect(pools.stderr).toContain(
    "Policy doesn't allow scheduler_extension:scheduler_stats:get_pools to be performed. (HTTP 403)",
  );
  const list = await run("cinder", [...passwordArgs(stack, stack.member), "list"]);
  expect(list.stderr).toBe("");
  expect(list.code).toBe(0);
});

test("a wrong password is refused by the built-in Keystone", async () => {
  // Starts with "-" as one random password in 64 does: it must reach Keystone, not argparse.
  const r = await run("cinder", [...passwordArgs(stack, stack.admin, "-wrong"), "get-pools"]);
  expect(r.stderr).toContain("The request you have made requires authentication. (HTTP 401)");
  expect(r.code).toBe(1);
});
