import { users } from "@cluster-code/db";
import { createTestDatabase, type TestDatabase } from "@cluster-code/db/testing";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { IdentityUserRecord } from "./identity-schemas.js";
import { applyIdentityUsers } from "./sync.js";

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb.drop();
});
beforeEach(async () => {
  await testDb.handle.db.delete(users);
});

const db = () => testDb.handle.db;
const user = async (id: number) => (await db().select().from(users).where(eq(users.id, id)))[0];
const allUsers = () => db().select().from(users).orderBy(asc(users.id));

function record(id: number, overrides: Partial<IdentityUserRecord> = {}): IdentityUserRecord {
  return {
    id,
    email: `user${id}@example.com`,
    name: `User ${id}`,
    username: `user${id}`,
    organizationId: 1,
    isActive: true,
    firstName: `First${id}`,
    lastName: `Last${id}`,
    avatar: null,
    ...overrides,
  };
}

describe("applyIdentityUsers", () => {
  it("inserts users, taking names from the profile or else from splitting the full name", async () => {
    const summary = await applyIdentityUsers(db(), [
      record(1),
      record(2, { name: "Ada King Lovelace", firstName: null, lastName: null }),
    ]);
    expect(summary).toEqual({
      inserted: 2,
      updated: 0,
      unchanged: 0,
      deactivated: 0,
      deactivatedIds: [],
      movedIds: [],
    });
    expect(await user(1)).toMatchObject({ fullName: "User 1", firstName: "First1", lastName: "Last1" });
    expect(await user(2)).toMatchObject({ firstName: "Ada", lastName: "King Lovelace" });
  });

  it("writes nothing the second time, not even updated_at", async () => {
    const page = [record(1), record(2, { isActive: false })];
    await applyIdentityUsers(db(), page);
    const before = await allUsers();
    expect(await applyIdentityUsers(db(), page)).toEqual({
      inserted: 0,
      updated: 0,
      unchanged: 2,
      deactivated: 0,
      deactivatedIds: [],
      movedIds: [],
    });
    expect(await allUsers()).toEqual(before);
  });

  it("soft-deletes an inactive user and keeps when it was deleted as its details change", async () => {
    await applyIdentityUsers(db(), [record(1)]);
    // A known user deactivated is named: its sockets are to be closed.
    expect(await applyIdentityUsers(db(), [record(1, { isActive: false })])).toMatchObject({
      deactivated: 1,
      deactivatedIds: [1],
      movedIds: [],
    });
    const deleted = await user(1);
    expect(deleted).toMatchObject({ isActive: false, deletedAt: expect.any(Date) });

    expect(
      await applyIdentityUsers(db(), [record(1, { isActive: false, email: "gone@example.com" })]),
    ).toEqual({
      inserted: 0,
      updated: 1,
      unchanged: 0,
      deactivated: 0,
      deactivatedIds: [],
      movedIds: [],
    });
    expect(await user(1)).toMatchObject({ email: "gone@example.com", deletedAt: deleted?.deletedAt });
  });

  it("names the known, active users whose organization changed", async () => {
    await applyIdentityUsers(db(), [record(1), record(2), record(3), record(4)]);
    expect(
      await applyIdentityUsers(db(), [
        record(1, { organizationId: 2 }),
        record(2, { organizationId: 2, isActive: false }),
        record(3, { email: "renamed@example.com" }),
        record(4, { organizationId: null }),
        record(5, { organizationId: 2 }),
      ]),
    ).toEqual({
      inserted: 1,
      updated: 3,
      unchanged: 0,
      deactivated: 1,
      deactivatedIds: [2],
      movedIds: [1, 4],
    });
  });

  it("restores a soft-deleted user the identity service calls active again", async () => {
    await applyIdentityUsers(db(), [record(1, { isActive: false })]);
    expect(await applyIdentityUsers(db(), [record(1)])).toMatchObject({ updated: 1 });
    expect(await user(1)).toMatchObject({ isActive: true, deletedAt: null });
  });

  it("takes the later of two records with the same id in one page", async () => {
    const summary = await applyIdentityUsers(db(), [record(1), record(1, { email: "later@example.com" })]);
    expect(summary).toMatchObject({ inserted: 1 });
    expect(await user(1)).toMatchObject({ email: "later@example.com" });
  });
});
