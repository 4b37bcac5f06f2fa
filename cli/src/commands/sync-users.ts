import type { CliIo } from "../io.js";

export async function syncUsersCommand(_args: string[], _io: CliIo): Promise<number> {
  throw new Error("sync-users: not implemented yet");
}
