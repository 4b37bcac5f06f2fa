import type { CliIo } from "../io.js";

export async function providerAddCommand(_args: string[], _io: CliIo): Promise<number> {
  throw new Error("provider-add: not implemented yet");
}
