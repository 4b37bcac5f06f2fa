import { type Database, type Executor, gitAccessTokens, type Transaction, users } from "@cluster-code/db";
import { and, asc, count, eq, ilike, isNull } from "drizzle-orm";
import { AppError, notFound } from "../errors.js";
import type { SecretBox } from "../secrets/secret-box.js";
import { containsPattern, offsetOf, type Page, type PageInput } from "../trpc/pagination.js";
import { repositoryHostOf, tokenHostMismatch } from "./host.js";
import type { CreateGitTokenInput, GitToken, UpdateGitTokenInput } from "./schemas.js";

/** Bound into every envelope, so a token's ciphertext decrypts only as a git token. */
const TOKEN_CONTEXT = "git_access_tokens.token";

/** The columns a reply is built from: the `token` column is never read for one. */
const viewColumns = {
  id: gitAccessTokens.id,
  title: gitAccessTokens.title,
  host: gitAccessTokens.host,
  isDefault: gitAccessTokens.isDefault,
  createdAt: gitAccessTokens.createdAt,
  updatedAt: gitAccessTokens.updatedAt,
};

type GitTokenRow = Omit<GitToken, "createdAt" | "updatedAt"> & { createdAt: Date; updatedAt: Date };

const toGitToken = (row: GitTokenRow): GitToken => ({
  ...row,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

const liveTokenOf = (userId: number, id?: number) =>
  and(
    eq(gitAccessTokens.userId, userId),
    isNull(gitAccessTokens.deletedAt),
    id === undefined ? undefined : eq(gitAccessTokens.id, id),
  );

/** The caller's tokens, oldest first; `q` matches the title. */
export async function listGitTokens(db: Executor, userId: number, input: PageInput): Promise<Page<GitToken>> {
  const where = and(
    liveTokenOf(userId),
    input.q ? ilike(gitAccessTokens.title, containsPattern(input.q)) : undefined,
  );
  const [rows, [total]] = await Promise.all([
    db
      .select(viewColumns)
      .from(gitAccessTokens)
      .where(where)
      .orderBy(asc(gitAccessTokens.id))
      .limit(input.limit)
      .offset(offsetOf(input)),
    db.select({ n: count() }).from(gitAccessTokens).where(where),
  ]);
  return { items: rows.map(toGitToken), page: input.page, limit: input.limit, total: total?.n ?? 0 };
}

export function createGitToken(
  db: Database,
  secrets: SecretBox,
  userId: number,
  input: CreateGitTokenInput,
): Promise<GitToken> {
  return db.transaction(async (tx) => {
    await lockTokensOf(tx, userId);
    const isDefault = input.isDefault ?? !(await hasDefaultToken(tx, userId));
    if (isDefault) await clearDefault(tx, userId);
    const [row] = await tx
      .insert(gitAccessTokens)
      .values({
        title: input.title,
        token: secrets.encrypt(input.token, TOKEN_CONTEXT),
        host: input.host,
        userId,
        isDefault,
      })
      .returning(viewColumns);
    if (!row) throw new Error("Inserting a git access token returned no row");
    return toGitToken(row);
  });
}

export function updateGitToken(
  db: Database,
  secrets: SecretBox,
  userId: number,
  { id, title, token, host, isDefault }: UpdateGitTokenInput,
): Promise<GitToken> {
  return db.transaction(async (tx) => {
    await lockTokensOf(tx, userId);
    if (isDefault) await clearDefault(tx, userId);
    const [row] = await tx
      .update(gitAccessTokens)
      .set({
        title,
        token: token === undefined ? undefined : secrets.encrypt(token, TOKEN_CONTEXT),
        host,
        isDefault,
      })
      .where(liveTokenOf(userId, id))
      .returning(viewColumns);
    if (!row) throw notFound(`Git access token ${id}`);
    return toGitToken(row);
  });
}

/** Soft delete; deleting the default leaves the user without one. */
export async function deleteGitToken(db: Executor, userId: number, id: number): Promise<{ id: number }> {
  const [row] = await db
    .update(gitAccessTokens)
    .set({ deletedAt: new Date() })
    .where(liveTokenOf(userId, id))
    .returning({ id: gitAccessTokens.id });
  if (!row) throw notFound(`Git access token ${id}`);
  return row;
}

/**
 * The plaintext token a workspace of `userId` clones `repositoryUrl` with: the token the workspace
 * names, or else the user's default, and only if that token's host is the repository's host
 * (an ssh URL never gets one). Otherwise null: the clone goes without credentials.
 *
 * With `strict` (an operation that clones), a named token that is gone or bound to another host
 * is an error naming both hosts, rather than a silent clone without it; a default token for
 * another host is simply not used.
 */
export async function gitTokenForWorkspace(
  db: Executor,
  secrets: SecretBox,
  {
    userId,
    gitAccessTokenId,
    repositoryUrl,
    strict = false,
  }: { userId: number; gitAccessTokenId?: number | null; repositoryUrl: string; strict?: boolean },
): Promise<string | null> {
  const chosen = gitAccessTokenId ?? undefined;
  const [row] = await db
    .select({ token: gitAccessTokens.token, host: gitAccessTokens.host })
    .from(gitAccessTokens)
    .where(
      chosen === undefined
        ? and(liveTokenOf(userId), eq(gitAccessTokens.isDefault, true))
        : liveTokenOf(userId, chosen),
    )
    .limit(1);
  if (!row) {
    if (chosen !== undefined && strict) throw notFound(`Git access token ${chosen}`);
    return null;
  }
  const repositoryHost = repositoryHostOf(repositoryUrl);
  if (repositoryHost === null) return null;
  if (row.host !== repositoryHost) {
    if (chosen !== undefined && strict) {
      throw new AppError("INVALID_STATE", tokenHostMismatch(chosen, row.host, repositoryHost));
    }
    return null;
  }
  return secrets.decrypt(row.token, TOKEN_CONTEXT);
}

/**
 * Serializes changes to one user's tokens (on the user's row), so two requests that each make a
 * different token the default cannot both clear the others and then collide on the unique index.
 */
async function lockTokensOf(tx: Transaction, userId: number): Promise<void> {
  await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for("update");
}

async function hasDefaultToken(tx: Transaction, userId: number): Promise<boolean> {
  const [row] = await tx
    .select({ id: gitAccessTokens.id })
    .from(gitAccessTokens)
    .where(and(liveTokenOf(userId), eq(gitAccessTokens.isDefault, true)))
    .limit(1);
  return row !== undefined;
}

async function clearDefault(tx: Transaction, userId: number): Promise<void> {
  await tx
    .update(gitAccessTokens)
    .set({ isDefault: false })
    .where(and(liveTokenOf(userId), eq(gitAccessTokens.isDefault, true)));
}
