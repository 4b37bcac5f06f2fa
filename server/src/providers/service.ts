import { type Database, type Executor, providers, workspaces } from "@cluster-code/db";
import { and, asc, count, eq, ilike, isNull, ne, or, type SQL } from "drizzle-orm";
import { recordAudit } from "../audit/audit-log.js";
import { DEFAULT_PROVIDER_SOURCES } from "../config/config.js";
import { AppError, notFound } from "../errors.js";
import type { SecretBox } from "../secrets/secret-box.js";
import { containsPattern, offsetOf, type Page, type PageInput } from "../trpc/pagination.js";
import { assertOptionsAllowed, assertSourceAllowed, type ProviderPolicy } from "./policy.js";
import type { DevpodProviderOptions, Provider, ProviderCreateInput, ProviderUpdateInput } from "./schemas.js";
import { changeSecretOptions, openSecretOptions, sealSecretOptions } from "./secret-options.js";

type ProviderRow = typeof providers.$inferSelect;

export interface ProviderDeps {
  db: Database;
  secrets: SecretBox;
  /** What an admin may configure (PROVIDER_SOURCES, PROVIDER_OPTIONS_ALLOWED); the operator is not bound by it. */
  config?: { providers: ProviderPolicy };
}

/** Without a configured policy, an admin gets the defaults: built-in sources, no worker-bound option. */
const DEFAULT_POLICY: ProviderPolicy = { sources: DEFAULT_PROVIDER_SOURCES, allowedOptions: [] };

/**
 * Who is asking. Organizations and providers:
 * - A provider with `organizationId` null is global: every organization sees it.
 * - A user sees global providers and their own organization's; any other is NOT_FOUND.
 * - An admin's new provider belongs to the admin's own organization, and an admin changes only
 *   their organization's providers. Global providers are the operator's alone: no admin creates,
 *   changes or deletes one (FORBIDDEN: they can see it), and an admin without an organization
 *   cannot create providers at all.
 * - An admin's provider uses a source from PROVIDER_SOURCES and no worker-bound option (a binary,
 *   path, host or command on the worker) unless PROVIDER_OPTIONS_ALLOWED lists it (policy.ts).
 * - The operator at the CLI sees and changes every provider, with any source and option, and
 *   creates global ones unless given an organization. Operator changes are audited with a null
 *   actor.
 */
export type Actor = { kind: "user"; userId: number; organizationId: number | null } | { kind: "operator" };

export const operatorActor: Actor = { kind: "operator" };

export const userActor = (principal: { userId: number; organizationId: number | null }): Actor => ({
  kind: "user",
  userId: principal.userId,
  organizationId: principal.organizationId,
});

/** Live providers the actor may see; `q` matches the name or the title. Ordered by id. */
export async function listProviders(db: Executor, actor: Actor, input: PageInput): Promise<Page<Provider>> {
  const pattern = input.q ? containsPattern(input.q) : undefined;
  const where = and(
    visibleTo(actor),
    pattern ? or(ilike(providers.name, pattern), ilike(providers.title, pattern)) : undefined,
  );
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(providers)
      .where(where)
      .orderBy(asc(providers.id))
      .limit(input.limit)
      .offset(offsetOf(input)),
    db.select({ n: count() }).from(providers).where(where),
  ]);
  return { items: rows.map(toProvider), page: input.page, limit: input.limit, total: total?.n ?? 0 };
}

export async function getProvider(db: Executor, actor: Actor, id: number): Promise<Provider> {
  const [row] = await db
    .select()
    .from(providers)
    .where(and(eq(providers.id, id), visibleTo(actor)))
    .limit(1);
  if (!row) throw notFound(`Provider ${id}`);
  return toProvider(row);
}

/** Input as validated by `ZProviderCreateInput`; only the operator may name another organization. */
export type CreateProviderInput = ProviderCreateInput & {
  organizationId?: number | null;
};

/** Creates the provider and its audit entry in one transaction: on any failure, nothing is written. */
export async function createProvider(
  deps: ProviderDeps,
  actor: Actor,
  input: CreateProviderInput,
): Promise<Provider> {
  assertDistinctKeys(input.options, input.secretOptions);
  if (actor.kind === "user") {
    if (actor.organizationId === null) {
      throw new AppError(
        "FORBIDDEN",
        "Global providers are added by the operator (cluster-code provider:add): an administrator without an organization cannot create providers",
      );
    }
    const policy = policyOf(deps);
    assertSourceAllowed(policy, input.source);
    assertOptionsAllowed(policy, [
      ...Object.keys(input.options),
      ...Object.keys(input.secretOptions),
      ...(input.machineTypeOption ? [input.machineTypeOption] : []),
    ]);
  }
  return refusingNameClash(input.name, () =>
    deps.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(providers)
        .values({
          name: input.name,
          title: input.title ?? input.name,
          icon: input.icon ?? null,
          source: input.source,
          options: input.options,
          secretOptions: sealSecretOptions(deps.secrets, input.secretOptions),
          machineTypeOption: input.machineTypeOption ?? null,
          organizationId: actor.kind === "user" ? actor.organizationId : (input.organizationId ?? null),
          createdById: actorIdOf(actor),
        })
        .returning();
      const created = toProvider(required(row));
      await audit(tx, actor, "provider.create", created, { after: created });
      return created;
    }),
  );
}

/**
 * Changes the given fields in one transaction (with the audit entry): all or nothing. A provider
 * in use cannot be renamed, because DevPod knows its workspaces by the provider's name.
 */
export async function updateProvider(
  deps: ProviderDeps,
  actor: Actor,
  input: ProviderUpdateInput,
): Promise<Provider> {
  return refusingNameClash(input.name, () =>
    deps.db.transaction(async (tx) => {
      const current = await lockForChange(tx, actor, input.id);
      if (actor.kind === "user") {
        const policy = policyOf(deps);
        if (input.source !== undefined && input.source !== current.source) {
          assertSourceAllowed(policy, input.source);
        }
        assertOptionsAllowed(policy, [
          ...Object.keys(input.options ?? {}),
          ...Object.entries(input.secretOptions ?? {}).flatMap(([key, value]) =>
            value === null ? [] : [key],
          ),
          ...(input.machineTypeOption ? [input.machineTypeOption] : []),
        ]);
      }
      const options = input.options ?? current.options;
      const secretOptions = input.secretOptions
        ? changeSecretOptions(deps.secrets, current.secretOptions, input.secretOptions)
        : current.secretOptions;
      assertDistinctKeys(options, secretOptions);
      if (input.name !== undefined && input.name !== current.name && (await isInUse(tx, current.id))) {
        throw new AppError(
          "IN_USE",
          `Provider "${current.name}" is used by live workspaces: it cannot be renamed`,
        );
      }
      const [row] = await tx
        .update(providers)
        .set({
          name: input.name ?? current.name,
          title: input.title ?? current.title,
          icon: input.icon === undefined ? current.icon : input.icon,
          source: input.source ?? current.source,
          options,
          secretOptions,
          machineTypeOption:
            input.machineTypeOption === undefined ? current.machineTypeOption : input.machineTypeOption,
        })
        .where(eq(providers.id, current.id))
        .returning();
      const before = toProvider(current);
      const after = toProvider(required(row));
      await audit(tx, actor, "provider.update", after, { before, after });
      return after;
    }),
  );
}

/** Soft-deletes the provider, unless a live (not terminated, not deleted) workspace uses it. */
export async function deleteProvider(db: Database, actor: Actor, id: number): Promise<{ id: number }> {
  return db.transaction(async (tx) => {
    // The row lock makes a workspace created concurrently (which reads the provider) wait or win.
    const current = await lockForChange(tx, actor, id);
    if (await isInUse(tx, current.id)) {
      throw new AppError("IN_USE", `Provider "${current.name}" is used by live workspaces`);
    }
    await tx.update(providers).set({ deletedAt: new Date() }).where(eq(providers.id, current.id));
    const before = toProvider(current);
    await audit(tx, actor, "provider.delete", before, { before });
    return { id: current.id };
  });
}

/** Name, source and options for `devpod provider add/set-options`, with the secret options decrypted. */
export async function providerOptionsForDevpod(
  db: Executor,
  secrets: SecretBox,
  providerId: number,
): Promise<DevpodProviderOptions> {
  const [row] = await db
    .select()
    .from(providers)
    .where(and(eq(providers.id, providerId), isNull(providers.deletedAt)))
    .limit(1);
  if (!row) throw notFound(`Provider ${providerId}`);
  return {
    name: row.name,
    source: row.source,
    options: row.options,
    secretOptions: openSecretOptions(secrets, row.secretOptions),
    machineTypeOption: row.machineTypeOption,
  };
}

/** The reply and audit view: plain options, and only the names of the secret ones. */
function toProvider(row: ProviderRow): Provider {
  return {
    id: row.id,
    name: row.name,
    title: row.title,
    icon: row.icon,
    source: row.source,
    options: row.options,
    secretOptionKeys: Object.keys(row.secretOptions).sort(),
    machineTypeOption: row.machineTypeOption,
    organizationId: row.organizationId,
    createdById: row.createdById,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function visibleTo(actor: Actor): SQL | undefined {
  const live = isNull(providers.deletedAt);
  if (actor.kind === "operator") return live;
  const global = isNull(providers.organizationId);
  return actor.organizationId === null
    ? and(live, global)
    : and(live, or(global, eq(providers.organizationId, actor.organizationId)));
}

/** The live provider, locked for the rest of the transaction, if the actor may change it. */
async function lockForChange(tx: Executor, actor: Actor, id: number): Promise<ProviderRow> {
  const [row] = await tx
    .select()
    .from(providers)
    .where(and(eq(providers.id, id), visibleTo(actor)))
    .for("update");
  if (!row) throw notFound(`Provider ${id}`);
  if (actor.kind === "user" && (row.organizationId === null || row.organizationId !== actor.organizationId)) {
    throw new AppError(
      "FORBIDDEN",
      `Provider "${row.name}" is global: only the operator manages global providers`,
    );
  }
  return row;
}

async function isInUse(db: Executor, providerId: number): Promise<boolean> {
  const [row] = await db
    .select({ id: workspaces.id })
    .from(workspaces)
    .where(
      and(
        eq(workspaces.providerId, providerId),
        isNull(workspaces.deletedAt),
        ne(workspaces.status, "terminated"),
      ),
    )
    .limit(1);
  return row !== undefined;
}

/** A key set both as a plain and as a secret option would be ambiguous for DevPod. */
function assertDistinctKeys(options: Record<string, string>, secretOptions: Record<string, string>): void {
  const both = Object.keys(options).filter((key) => Object.hasOwn(secretOptions, key));
  if (both.length) {
    throw new AppError("VALIDATION_FAILED", `Option(s) ${both.join(", ")} cannot be both plain and secret`);
  }
}

const policyOf = (deps: ProviderDeps): ProviderPolicy => deps.config?.providers ?? DEFAULT_POLICY;

const actorIdOf = (actor: Actor) => (actor.kind === "user" ? actor.userId : null);

function audit(
  tx: Executor,
  actor: Actor,
  action: string,
  provider: Provider,
  change: { before?: Provider; after?: Provider },
) {
  return recordAudit(tx, {
    actorId: actorIdOf(actor),
    action,
    objectType: "provider",
    objectId: provider.id,
    organizationId: provider.organizationId,
    before: change.before ?? null,
    after: change.after ?? null,
  });
}

/** Runs a write; the live-name unique index firing (also under a race) becomes ALREADY_EXISTS. */
async function refusingNameClash<T>(name: string | undefined, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isNameClash(error)) {
      throw new AppError("ALREADY_EXISTS", `A provider named "${name}" already exists`, { cause: error });
    }
    throw error;
  }
}

/** Postgres unique violation on the live-name index, wherever the driver wrapped it. */
function isNameClash(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const { code, constraint } = e as { code?: unknown; constraint?: unknown };
    if (code === "23505") return constraint === undefined || constraint === "providers_name_live_key";
  }
  return false;
}

function required<T>(row: T | undefined): T {
  if (!row) throw new Error("The database returned no row");
  return row;
}
