/**
 * Undo steps registered as a scenario builds its setup, run last-first whatever failed, so one
 * failing step never leaves servers, sockets or databases behind.
 */
export class Cleanup {
  private readonly steps: (() => Promise<unknown> | unknown)[] = [];
  private readonly starting: Promise<unknown>[] = [];

  defer(step: () => Promise<unknown> | unknown): void {
    this.steps.push(step);
  }

  /**
   * Registers `stop` for something being started, once it has started: several things can start
   * at once, and each that did is stopped even if another failed.
   */
  track<T>(starting: Promise<T>, stop: (started: T) => Promise<unknown> | unknown): Promise<T> {
    this.starting.push(
      starting.then(
        (started) => this.defer(() => stop(started)),
        () => {},
      ),
    );
    return starting;
  }

  async run(): Promise<void> {
    await Promise.allSettled(this.starting.splice(0));
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        console.error(`cleanup step failed: ${(error as Error).message}`);
      }
    }
  }
}
