import { type Executor, users } from "@cluster-code/db";
import { eq } from "drizzle-orm";
import { AppError } from "../errors.js";

export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;

/** The identity service's view of a user, as carried in a main token's `user` claim. */
export interface IdentityUser {
  id: number;
  email?: string | null;
  name?: string | null;
  username?: string | null;
  organizationId?: number | null;
  isActive: boolean;
}

export async function findUser(db: Executor, id: number): Promise<User | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return row;
}

/** Refuses users the identity service deactivated or that were deleted here. */
export function assertActive(user: User | undefined, id: number): User {
  if (!user) throw new AppError("UNAUTHENTICATED", `Unknown user ${id}`);
  if (user.deletedAt || !user.isActive)
    throw new AppError("USER_INACTIVE", "This user account is inactive or deleted");
  return user;
}

/**
 * Returns the user, creating it from the identity claims on first sight. An existing row is the
 * source of truth for activity (sync and identity events keep it current); a token that itself
 * says the user is inactive is refused either way.
 */
export async function ensureUserFromIdentity(db: Executor, identity: IdentityUser): Promise<User> {
  if (!identity.isActive) throw new AppError("USER_INACTIVE", "This user account is inactive or deleted");
  const existing = await findUser(db, identity.id);
  if (existing) return assertActive(existing, identity.id);
  await db.insert(users).values(toUserRow(identity)).onConflictDoNothing({ target: users.id });
  return assertActive(await findUser(db, identity.id), identity.id);
}

export function toUserRow(
  identity: IdentityUser & { firstName?: string | null; lastName?: string | null; avatar?: string | null },
): NewUser {
  const [first, ...rest] = (identity.name ?? "").trim().split(/\s+/);
  return {
    id: identity.id,
    email: identity.email ?? null,
    username: identity.username ?? null,
    fullName: identity.name ?? null,
    firstName: identity.firstName ?? (first || null),
    lastName: identity.lastName ?? (rest.join(" ") || null),
    avatar: identity.avatar ?? null,
    organizationId: identity.organizationId ?? null,
    isActive: identity.isActive,
  };
}
