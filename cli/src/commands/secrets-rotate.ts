import type { CliIo } from "../io.js";

export async function secretsRotateCommand(_args: string[], _io: CliIo): Promise<number> {
  throw new Error("secrets-rotate: not implemented yet");
}
