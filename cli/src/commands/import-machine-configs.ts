import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { defaultMachineConfigs, importMachineConfigs, parseMachineConfigFile } from "@cluster-code/server";
import { withDatabase } from "../database.js";
import { type CliIo, UsageError } from "../io.js";

/** `import-machine-configs [--file F] [--dry-run]`: validate the whole file, then upsert it in one transaction. */
export async function importMachineConfigsCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { file: { type: "string" }, "dry-run": { type: "boolean", default: false } },
  });
  const content = values.file ? await readJsonFile(values.file) : defaultMachineConfigs;
  const records = parseMachineConfigFile(content);
  const dryRun = values["dry-run"] ?? false;
  const summary = await withDatabase(io, (db) => importMachineConfigs(db.db, records, { dryRun }));
  io.stdout(
    `${dryRun ? "Dry run: would import" : "Imported"} ${records.length} machine config(s): ` +
      `${summary.inserted} inserted, ${summary.updated} updated, ${summary.unchanged} unchanged\n`,
  );
  return 0;
}

async function readJsonFile(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new UsageError(`Cannot read ${path}: ${(error as Error).message}`);
  }
}
