import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { createDb, queryRows } from "./client.js";
import { migrateUp, migrationStatus, migrationsFolder } from "./migrator.js";
import { createTestDatabase, type TestDatabase } from "./testing.js";

const run = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;

describe("migrations", () => {
  let testDb: TestDatabase | undefined;
  afterEach(async () => {
    await testDb?.drop();
    testDb = undefined;
  });

  it("agree with the schema: generating again yields no new migration", async () => {
    const out = mkdtempSync(join(tmpdir(), "cc-migrations-"));
    try {
      cpSync(migrationsFolder, out, { recursive: true });
      const before = readdirSync(out).sort();
      const { stdout, stderr } = await run(
        join(root, "node_modules/.bin/drizzle-kit"),
        [
          "generate",
          "--dialect=postgresql",
          "--schema=./db/src/schema/index.ts", // drizzle-kit prefixes "./" to --out, so it must be relative.
          `--out=${relative(root, out)}`,
          "--casing=snake_case",
        ],
        { cwd: root },
      );
      expect(stderr).not.toMatch(/error/i);
      expect(stdout).toContain("No schema changes");
      expect(readdirSync(out).sort()).toEqual(before);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("applies every migration and reports them all applied", async () => {
    testDb = await createTestDatabase(undefined, { migrate: false });
    expect((await migrationStatus(testDb.handle)).every((m) => !m.applied)).toBe(true);
    const applied = await migrateUp(testDb.handle);
    const status = await migrationStatus(testDb.handle);
    expect(applied).toEqual(status.map((m) => m.tag));
    expect(status.every((m) => m.applied)).toBe(true);
    expect(await migrateUp(testDb.handle)).toEqual([]);
  });

  it.runIf(process.env.DATABASE_URL)(
    "applies each migration exactly once when two processes migrate at the same moment",
    async () => {
      testDb = await createTestDatabase(process.env.DATABASE_URL, { migrate: false });
      const migrateFrom = (url: string) => {
        const handle = createDb({ url, poolSize: 2 });
        return migrateUp(handle).finally(() => handle.close());
      };
      const url = testDb.url as string;
      const results = await Promise.all([migrateFrom(url), migrateFrom(url), migrateFrom(url)]);
      const tags = (await migrationStatus(testDb.handle)).map((m) => m.tag);
      // Exactly one caller applied everything; the others found nothing left to do.
      expect(results.flat().sort()).toEqual([...tags].sort());
      const [row] = await queryRows<{ n: number }>(
        testDb.handle.db,
        sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
      );
      expect(row?.n).toBe(tags.length);
    },
  );
});
