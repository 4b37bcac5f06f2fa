// Errors the fake reports the way devpod does: the message of the returned Go error becomes the
// final `fatal` log line (or, for `delete`, an `error` line).

export class CliError extends Error {
  name = "CliError";
}

/** The error a cancelled Go context produces; every cancelled wait rejects with it. */
export class CancelledError extends CliError {
  name = "CancelledError";

  constructor() {
    super("context canceled");
  }
}

export class DeadlineError extends CliError {
  name = "DeadlineError";

  constructor() {
    super("context deadline exceeded");
  }
}

/** Wraps like Go's `fmt.Errorf("prefix: %w", err)`, keeping the original as `cause`. */
export function wrapError(prefix, error) {
  return new CliError(`${prefix}: ${messageOf(error)}`, { cause: error });
}

export function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

export function isCancellation(error) {
  return error instanceof CancelledError || error?.cause instanceof CancelledError;
}
