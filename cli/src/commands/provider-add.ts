import { parseArgs } from "node:util";
import { createProvider, operatorActor, ZProviderCreateInput } from "@cluster-code/server";
import { withDatabase } from "../database.js";
import { type CliIo, UsageError } from "../io.js";
import { openSecretBox } from "./secrets-rotate.js";

/**
 * `provider:add --name N --source S [--title T] [--icon I] [--org N] [-o K=V]... [--secret K=V]...
 * [--machine-type-option K]`: adds a provider as the operator (no user, a null audit actor), with
 * the API's validation and domain function. The provider is global unless `--org` names an
 * organization. `--secret K` without a value reads K from the environment, keeping the secret out
 * of shell history and process listings.
 */
export async function providerAddCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: "string" },
      source: { type: "string" },
      title: { type: "string" },
      icon: { type: "string" },
      org: { type: "string" },
      option: { type: "string", short: "o", multiple: true },
      secret: { type: "string", multiple: true },
      "machine-type-option": { type: "string" },
    },
  });
  const parsed = ZProviderCreateInput.safeParse({
    name: values.name,
    source: values.source,
    title: values.title,
    icon: values.icon,
    options: keyValues(values.option ?? [], "-o", () => undefined),
    secretOptions: keyValues(values.secret ?? [], "--secret", (key) => io.env[key]),
    machineTypeOption: values["machine-type-option"],
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      // A record key's issue carries the useful message one level down.
      const message = issue.code === "invalid_key" ? issue.issues[0]?.message : undefined;
      return `${flagOf(issue.path)}: ${message ?? issue.message}`;
    });
    throw new UsageError(problems.join("; "));
  }
  const organizationId = organizationOf(values.org);
  const secrets = openSecretBox(io);
  const provider = await withDatabase(io, (db) =>
    createProvider({ db: db.db, secrets }, operatorActor, { ...parsed.data, organizationId }),
  );
  const secretKeys = provider.secretOptionKeys.length ? provider.secretOptionKeys.join(", ") : "none";
  io.stdout(
    `Added provider ${provider.name} (id ${provider.id}, ` +
      `${provider.organizationId === null ? "global" : `organization ${provider.organizationId}`}); ` +
      `secret options set: ${secretKeys}\n`,
  );
  return 0;
}

/** `K=V` pairs into a record; a repeated key is refused rather than silently overwritten. */
function keyValues(
  pairs: string[],
  flag: string,
  valueWithoutEquals: (key: string) => string | undefined,
): Record<string, string> {
  const record: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    const key = at < 0 ? pair : pair.slice(0, at);
    const value = at < 0 ? valueWithoutEquals(key) : pair.slice(at + 1);
    if (value === undefined) throw new UsageError(`${flag} ${key}: expected KEY=VALUE`);
    if (Object.hasOwn(record, key)) throw new UsageError(`${flag} ${key}: given twice`);
    record[key] = value;
  }
  return record;
}

const flags: Record<string, string> = {
  options: "-o",
  secretOptions: "--secret",
  machineTypeOption: "--machine-type-option",
};

/** A zod issue path in the command's own terms: `--name`, `-o AWS_REGION`, ... */
function flagOf(path: PropertyKey[]): string {
  const [field, key] = path.map(String);
  if (!field) return "provider";
  const flag = flags[field] ?? `--${field}`;
  return key === undefined ? flag : `${flag} ${key}`;
}

function organizationOf(org: string | undefined): number | null {
  if (org === undefined) return null;
  const id = Number(org);
  if (!Number.isSafeInteger(id) || id <= 0) throw new UsageError("--org must be a positive integer id");
  return id;
}
