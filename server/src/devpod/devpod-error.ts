/**
 * Why a DevPod command failed. The message is DevPod's own (its last fatal line, else its last
 * error line) with secrets redacted, or the driver's description of a timeout or cancellation.
 */
export class DevpodError extends Error {
  override name = "DevpodError";
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly canceled: boolean;

  constructor(
    message: string,
    details: { exitCode?: number | null; timedOut?: boolean; canceled?: boolean } = {},
  ) {
    super(message);
    this.exitCode = details.exitCode ?? null;
    this.timedOut = details.timedOut ?? false;
    this.canceled = details.canceled ?? false;
  }
}
