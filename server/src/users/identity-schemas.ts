import { z } from "zod";
import { AppError } from "../errors.js";
import { ZStorableString } from "../text.js";
import type { IdentityUser } from "./users.js";

/** Empty strings from the identity service mean "not set". */
const text = ZStorableString.nullish().transform((v) => (v ? v : null));

/** The identity service sends `is_active` as 0/1; booleans and "0"/"1" are accepted too. */
const activeFlag = z
  .union([z.boolean(), z.literal([0, 1]), z.literal(["0", "1"])])
  .transform((v) => v === true || v === 1 || v === "1");

/**
 * One user as the identity service's API (and a sync file) carries it, snake_case. Fields of its
 * own beyond these are ignored, never rejected.
 */
export const ZIdentityApiUser = z
  .looseObject({
    id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    email: text,
    name: text,
    username: text,
    organization_id: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullish(),
    is_active: activeFlag,
    profile: z.looseObject({ f_name: text, l_name: text, avatar: text }).nullish(),
  })
  .transform(
    (u): IdentityUserRecord => ({
      id: u.id,
      email: u.email,
      name: u.name,
      username: u.username,
      organizationId: u.organization_id ?? null,
      isActive: u.is_active,
      firstName: u.profile?.f_name ?? null,
      lastName: u.profile?.l_name ?? null,
      avatar: u.profile?.avatar ?? null,
    }),
  );

/** A user from the identity service, in this project's naming: what `applyIdentityUsers` takes. */
export interface IdentityUserRecord extends IdentityUser {
  firstName: string | null;
  lastName: string | null;
  avatar: string | null;
}

/** `GET /users?limit=&page=`: a page of users (left unparsed here so a bad one is named by index). */
export const ZIdentityUsersPage = z.looseObject({
  data: z.array(z.unknown()),
  last_page: z.coerce.number().int().min(0),
});

/** `GET /users/{id}`. */
export const ZIdentityUserReply = z.looseObject({ data: z.unknown() });

/** Parses users one by one; the first bad one is reported as `[<where>: ]record <index>: field <name>`. */
export function parseIdentityUsers(records: unknown[], where?: string): IdentityUserRecord[] {
  return records.map((raw, index) => {
    const parsed = ZIdentityApiUser.safeParse(raw);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const field = issue?.path.join(".") || "(record)";
    throw new AppError(
      "VALIDATION_FAILED",
      `${where ? `${where}: ` : ""}record ${index}: field ${field}: ${issue?.message ?? "invalid"}`,
    );
  });
}

/** A `sync-users --file` file: an array of identity users, or the API's own `{data: [...]}` reply. */
export function parseIdentityUserFile(content: unknown): IdentityUserRecord[] {
  const records = Array.isArray(content)
    ? content
    : typeof content === "object" && content !== null && Array.isArray((content as { data?: unknown }).data)
      ? (content as { data: unknown[] }).data
      : undefined;
  if (!records) {
    throw new AppError(
      "VALIDATION_FAILED",
      'the file must hold a JSON array of identity users or an object {"data": [...]}',
    );
  }
  return parseIdentityUsers(records);
}
