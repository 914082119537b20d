/**
 * Prints the scrypt hash of a password for the users file:
 *   npx tsx services/keystone/hashPassword.ts            (reads the password from stdin)
 * The password is read from stdin rather than argv so it does not end up in `ps` or shell history.
 */
import { hashPassword } from "./passwords";

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
  }
  const password = Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
  if (password === "") {
    throw new Error("no password on stdin");
  }
  process.stdout.write(`${await hashPassword(password)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`hashPassword: ${(err as Error).message}\n`);
  process.exit(1);
});
