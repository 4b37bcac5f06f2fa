import { migrateUp, migrationStatus } from "@cluster-code/db";
import { withDatabase } from "../database.js";
import type { CliIo } from "../io.js";

export async function migrateUpCommand(io: CliIo): Promise<number> {
  const applied = await withDatabase(io, migrateUp);
  io.stdout(
    applied.length ? `Applied ${applied.length} migration(s): ${applied.join(", ")}\n` : "Nothing to apply\n",
  );
  return 0;
}

export async function migrateStatusCommand(io: CliIo): Promise<number> {
  const status = await withDatabase(io, migrationStatus);
  for (const { tag, applied } of status) io.stdout(`${applied ? "applied" : "pending"}  ${tag}\n`);
  const pending = status.filter((m) => !m.applied).length;
  io.stdout(pending ? `${pending} pending\n` : "Up to date\n");
  return 0;
}
