import type { CliIo } from "../io.js";

export async function providerListCommand(_args: string[], _io: CliIo): Promise<number> {
  throw new Error("provider-list: not implemented yet");
}
