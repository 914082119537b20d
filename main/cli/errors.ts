/** What `vms` prints on stderr as `ERROR: <message>` before it exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** The volume API refused a request: Cinder's fault message, its HTTP status and request id. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly fault: string,
    readonly requestId: string | undefined,
  ) {
    super(`${fault} (HTTP ${status})${requestId ? ` (Request-ID: ${requestId})` : ""}`);
    this.name = "ApiError";
  }
}
