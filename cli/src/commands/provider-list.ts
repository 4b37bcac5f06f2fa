import { parseArgs } from "node:util";
import { listProviders, operatorActor, type Provider } from "@cluster-code/server";
import { withDatabase } from "../database.js";
import type { CliIo } from "../io.js";

const MASK = "********";

/**
 * `provider:list [--q TEXT]`: every live provider of every organization, as a table. Secret options
 * show only their names: the command never decrypts them.
 */
export async function providerListCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { q: { type: "string" } } });
  const providers = await withDatabase(io, async ({ db }) => {
    const all: Provider[] = [];
    for (let page = 1; ; page++) {
      const result = await listProviders(db, operatorActor, { page, limit: 100, q: values.q });
      all.push(...result.items);
      if (all.length >= result.total || !result.items.length) return all;
    }
  });
  if (!providers.length) {
    io.stdout("No providers\n");
    return 0;
  }
  const header = ["ID", "NAME", "TITLE", "SOURCE", "ORGANIZATION", "MACHINE TYPE OPTION", "OPTIONS"];
  io.stdout(formatTable([header, ...providers.map(providerRow)]));
  return 0;
}

function providerRow(provider: Provider): string[] {
  const options = [
    ...Object.entries(provider.options).map(([key, value]) => `${key}=${value}`),
    ...provider.secretOptionKeys.map((key) => `${key}=${MASK}`),
  ];
  return [
    String(provider.id),
    provider.name,
    provider.title,
    provider.source,
    provider.organizationId === null ? "global" : String(provider.organizationId),
    provider.machineTypeOption ?? "-",
    options.join(" ") || "-",
  ];
}

function formatTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows
    .map(
      (row) =>
        `${row
          .map((cell, column) => cell.padEnd(widths[column] ?? 0))
          .join("  ")
          .trimEnd()}\n`,
    )
    .join("");
}
