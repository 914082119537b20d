import { execFileSync } from "node:child_process";
import { randomInt } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { quoteArgv } from "../../drivers/exec/quote";
import { HOSTILE } from "./exec.hostile";

/** What a remote login shell does with the exec string: `<shell> -c <string>`. */
function viaShell(shell: string, argv: readonly string[]): Buffer {
  return execFileSync(shell, ["-c", quoteArgv(argv)]);
}

/** printf prints every argument it got, each ended by a NUL, so the exact argv can be read back. */
function argvSeenBy(shell: string, args: readonly string[]): string[] {
  const out = viaShell(shell, ["printf", "%s\\0", ...args]).toString("utf8");
  return out.split("\0").slice(0, -1);
}

const SHELLS = ["/bin/sh", "/bin/bash"].filter((s) => fs.existsSync(s));

test("quotes every word in single quotes and writes ' as '\\''", () => {
  expect(quoteArgv(["dd", "if=/dev/x", ""])).toBe("'dd' 'if=/dev/x' ''");
  expect(quoteArgv(["it's"])).toBe("'it'\\''s'");
});

test("refuses an empty argv and NUL bytes, which a C string would silently cut", () => {
  expect(() => quoteArgv([])).toThrow(TypeError);
  expect(() => quoteArgv(["echo", "a\0b"])).toThrow(/NUL/);
});

describe.each(SHELLS)("%s -c <quoted> yields exactly the original argv", (shell) => {
  test.each(HOSTILE.map((s) => [JSON.stringify(s), s]))("argument %s", (_name, arg) => {
    expect(argvSeenBy(shell, [arg])).toEqual([arg]);
  });

  test("all hostile arguments at once, in order", () => {
    expect(argvSeenBy(shell, HOSTILE)).toEqual(HOSTILE);
  });

  test("500 random words built from shell metacharacters", () => {
    const alphabet = [..."'\"\\$`;|&<>(){}[]*?~#!= \t\n-%aZ9", "é", "✓", "🚀"];
    const words = Array.from({ length: 500 }, () =>
      Array.from({ length: randomInt(0, 12) }, () => alphabet[randomInt(alphabet.length)]).join(""),
    );
    expect(argvSeenBy(shell, words)).toEqual(words);
  });

  test("nothing in an argument runs: no command substitution, redirection or globbing", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-quote-"));
    try {
      const marker = path.join(dir, "pwned");
      const args = [`$(touch ${marker})`, `\`touch ${marker}\``, `; touch ${marker}`, `> ${marker}`, "*"];
      expect(
        execFileSync(shell, ["-c", quoteArgv(["printf", "%s\\n", ...args])], { cwd: dir }).toString(),
      ).toBe(args.map((a) => `${a}\n`).join(""));
      expect(fs.existsSync(marker)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the command word itself is one word, even with spaces and metacharacters", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-quote-"));
    try {
      const program = path.join(dir, "my tool; $(id) 'x'");
      fs.writeFileSync(program, '#!/bin/sh\nprintf "%s|" "$0" "$@"\n', { mode: 0o755 });
      expect(viaShell(shell, [program, "-a", "b c"]).toString()).toBe(`${program}|-a|b c|`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
