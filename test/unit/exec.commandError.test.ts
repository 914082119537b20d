import { CommandError } from "../../drivers/exec/types";

test("a CommandError shows a script argument by its head and length, the reason in full", () => {
  const script = `set -o pipefail; ${"dd if=x of=y; ".repeat(100)}`;
  const err = new CommandError(
    ["bash", "-c", script, "write", "/dev/vg/lv"],
    1,
    "dd: No space left on device\n",
    "local",
  );
  expect(err.message).toBe(
    `Command ["bash","-c","${script.slice(0, 60)}… (${script.length} characters)","write","/dev/vg/lv"] ` +
      "on local exited with 1: dd: No space left on device",
  );
  expect(err.argv[2]).toBe(script);
});
