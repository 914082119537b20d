/**
 * The `vms` command (package.json `bin`, through bin/vms.cjs): `vms all|api|scheduler|volume …`
 * runs a process of the service exactly as main/index.ts does (which reads the same argv); any
 * other command is an admin command of main/cli, which talks to the API over HTTP.
 */
import { PROCESS_MODES, runCli } from "./cli";

const first = process.argv[2];
if (first !== undefined && (PROCESS_MODES as readonly string[]).includes(first)) {
  // main/index.ts starts the process when loaded (CommonJS, as tsx runs it).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("./index");
} else {
  void runCli(process.argv).then((code) => process.exit(code));
}
