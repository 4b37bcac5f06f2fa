import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { machineConfigs, users } from "@cluster-code/db";
import { createTestDatabase, type TestDatabase } from "@cluster-code/db/testing";
import { eq } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../cli/src/main.js";
import { anyJson, mutationOf } from "./arbitraries.js";
import { CHAOS, caseCounter, LONG_TIMEOUT, scaled, snapshotTables } from "./support.js";

/**
 * The CLI's import files under generated input: `import-machine-configs --file` and
 * `sync-users --file` get valid files, spoiled ones, arbitrary JSON and text that is not JSON.
 * A good file is applied; a bad one is refused with exit code 1 and a message, never a thrown
 * error, and leaves the table exactly as it was.
 */

let testDb: TestDatabase;
let dir: string;
beforeAll(async () => {
  testDb = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), "cc-fuzz-import-"));
});
afterAll(async () => {
  await testDb?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const counter = caseCounter("generated CLI import files");

/** Runs the CLI in this process on a file holding `content` (text as it is, anything else as JSON). */
async function cliWithFile(command: string, content: unknown, extra: string[] = []) {
  const file = join(dir, "input.json");
  writeFileSync(file, typeof content === "string" ? content : (JSON.stringify(content) ?? ""));
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli([command, "--file", file, ...extra], {
    env: {},
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    db: testDb.handle,
    isTTY: false,
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

/** The JSON of `content` holds a U+0000 character somewhere (JSON.stringify writes it as \u0000). */
const holdsNul = (content: unknown) =>
  typeof content !== "string" && (JSON.stringify(content) ?? "").includes("\\u0000");

// ---------------------------------------------------------------------------------------------
// import-machine-configs

const camelRecord = fc.record(
  {
    instanceType: fc.stringMatching(/^[a-z0-9]{1,8}\.[a-z0-9]{1,8}$/),
    category: fc.string({ maxLength: 20 }),
    cpuCores: fc.integer({ min: 1, max: 512 }),
    memoryGb: fc.double({ min: 0.001, max: 1e6, noNaN: true, noDefaultInfinity: true }),
    storageType: fc.constantFrom("EBS", "NVMe", ""),
    storageSizeGb: fc.integer({ min: 0, max: 100_000 }),
    networkPerformance: fc.string({ maxLength: 20 }),
    architecture: fc.constantFrom("x86_64", "arm64", "i386, x86_64"),
    hypervisor: fc.constantFrom("nitro", "xen", ""),
    generation: fc.string({ maxLength: 10 }),
    enhancedNetworking: fc.boolean(),
    gpu: fc.string({ maxLength: 10 }),
    additionalFeatures: fc.string({ maxLength: 30 }),
  },
  { requiredKeys: ["instanceType", "cpuCores", "memoryGb"] },
);

const legacyNames: Record<string, string> = {
  instanceType: "InstanceType",
  category: "Category",
  cpuCores: "CPUCores",
  memoryGb: "MemoryGB",
  storageType: "StorageType",
  storageSizeGb: "StorageSizeGB",
  networkPerformance: "NetworkPerformance",
  architecture: "Architecture",
  hypervisor: "Hypervisor",
  generation: "Generation",
  enhancedNetworking: "EnhancedNetworking",
  gpu: "GPU",
  additionalFeatures: "AdditionalFeatures",
};
const toLegacy = (record: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(record).map(([key, value]) => [legacyNames[key] ?? key, value]));

const validMachineFile = fc
  .tuple(fc.uniqueArray(camelRecord, { selector: (r) => r.instanceType, maxLength: 15 }), fc.boolean())
  .map(([records, legacy]) => (legacy ? records.map(toLegacy) : records));

const spoiledMachineFile = fc
  .tuple(
    fc.uniqueArray(camelRecord, { selector: (r) => r.instanceType, minLength: 1, maxLength: 8 }),
    fc.boolean(),
  )
  .chain(([records, legacy]) => {
    const shaped: Record<string, unknown>[] = legacy ? records.map(toLegacy) : records;
    return fc
      .tuple(fc.nat({ max: shaped.length - 1 }), fc.constant(shaped))
      .chain(([index, all]) =>
        mutationOf(all[index] as Record<string, unknown>).map((bad) =>
          all.map((r, i) => (i === index ? bad : r)),
        ),
      );
  });

/**
 * BUG (machine configs the database refuses): a record the schema accepts but Postgres does not
 * (a U+0000 in any text field, or cpuCores / storageSizeGb of 2^31 or more, past the `integer`
 * column) makes `import-machine-configs` throw the raw DrizzleQueryError out of `runCli` instead
 * of exiting 1 with "record <i>: field <name>". Nothing is written (one transaction), but the CLI
 * crashes with a stack and the SQL. Left out of the generator until fixed; see the it.fails tests.
 */
const MACHINE_IMPORT_CRASHES_ON_DB_REFUSALS = true;
const INT32_MAX = 2 ** 31 - 1;
const overflowsInteger = (content: unknown) =>
  Array.isArray(content) &&
  content.some((record) =>
    ["cpuCores", "CPUCores", "storageSizeGb", "StorageSizeGB"].some((key) => {
      const value = (record as Record<string, unknown> | null)?.[key];
      return typeof value === "number" && Math.abs(value) > INT32_MAX;
    }),
  );
const machineFileDatabaseRefuses = (content: unknown) => holdsNul(content) || overflowsInteger(content);

const machineFile = fc
  .oneof(
    { weight: 3, arbitrary: validMachineFile },
    { weight: 5, arbitrary: spoiledMachineFile },
    { weight: 2, arbitrary: anyJson },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 60 }).map((text) => `[${text}`) },
  )
  .filter((content) => !(MACHINE_IMPORT_CRASHES_ON_DB_REFUSALS && machineFileDatabaseRefuses(content)));

async function checkMachineImport(content: unknown, dryRun: boolean) {
  counter.add("import-machine-configs");
  const db = testDb.handle.db;
  const before = await snapshotTables(db, [machineConfigs]);
  const result = await cliWithFile("import-machine-configs", content, dryRun ? ["--dry-run"] : []);
  expect([0, 1], result.stderr).toContain(result.code);
  if (result.code !== 0 || dryRun) {
    if (result.code !== 0) expect(result.stderr).toMatch(/^error: /);
    expect(await snapshotTables(db, [machineConfigs])).toEqual(before);
    return;
  }
  expect(result.stdout).toMatch(
    /^Imported \d+ machine config\(s\): \d+ inserted, \d+ updated, \d+ unchanged\n$/,
  );
  for (const record of content as Record<string, unknown>[]) {
    const instanceType = String(record.instanceType ?? record.InstanceType).trim();
    const [row] = await db.select().from(machineConfigs).where(eq(machineConfigs.instanceType, instanceType));
    expect(row?.cpuCores).toBe(record.cpuCores ?? record.CPUCores);
  }
}

describe("import-machine-configs --file, fuzzed", () => {
  it(
    "applies a good file, refuses a bad one with exit 1 and writes nothing, never throws",
    async () => {
      await fc.assert(fc.asyncProperty(machineFile, fc.boolean(), checkMachineImport), {
        numRuns: scaled(100, 5_000),
        endOnFailure: !CHAOS,
      });
    },
    LONG_TIMEOUT,
  );

  it("refuses a record with a U+0000 character with exit 1, naming the record and field", async () => {
    await checkMachineImport(
      [{ instanceType: "nul.large", cpuCores: 1, memoryGb: 1, gpu: "a\u0000b" }],
      false,
    );
  });

  it("refuses cpuCores past the integer column (2^31) with exit 1, naming the record and field", async () => {
    await checkMachineImport([{ InstanceType: "huge.metal", CPUCores: 2 ** 31, MemoryGB: 1 }], false);
  });
});

// ---------------------------------------------------------------------------------------------
// sync-users

const text = fc.oneof(fc.constant(null), fc.constant(""), fc.string({ maxLength: 30 }));
const identityUser = fc.record(
  {
    id: fc.oneof(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 600 }).map(String)),
    email: fc.oneof(text, fc.emailAddress()),
    name: text,
    username: text,
    organization_id: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 50 })),
    is_active: fc.constantFrom(0, 1, true, false, "0", "1"),
    profile: fc.oneof(fc.constant(null), fc.record({ f_name: text, l_name: text, avatar: text })),
    employee: fc.anything({ maxDepth: 1 }),
  },
  { requiredKeys: ["id", "is_active"] },
);

/** Mostly short files; some cross the 100-user page the sync applies at a time. */
const identityUsers = fc.oneof(
  { weight: 6, arbitrary: fc.array(identityUser, { maxLength: 12 }) },
  { weight: 1, arbitrary: fc.array(identityUser, { minLength: 101, maxLength: 160 }) },
);

const validUserFile = fc
  .tuple(identityUsers, fc.boolean())
  .map(([records, wrapped]) => (wrapped ? { data: records, last_page: 1 } : records));

const spoiledUserFile = fc
  .tuple(
    identityUsers.filter((records) => records.length > 0),
    fc.boolean(),
  )
  .chain(([records, wrapped]) =>
    fc
      .nat({ max: records.length - 1 })
      .chain((index) =>
        mutationOf(records[index] as Record<string, unknown>).map((bad) =>
          records.map((r, i) => (i === index ? bad : r)),
        ),
      )
      .map((spoiled) => (wrapped ? { data: spoiled } : spoiled)),
  );

/**
 * BUG (sync-users and U+0000): the identity schemas accept a U+0000 in any text field, Postgres
 * refuses it, and `sync-users` throws the raw DrizzleQueryError out of `runCli`; worse, a file is
 * applied 100 users per transaction, so when the bad user is past the first 100, the users
 * before it are already committed: a failed sync is half-written. Left out of the generator until
 * fixed; see the it.fails tests.
 */
const SYNC_USERS_CRASHES_ON_NUL = true;

const userFile = fc
  .oneof(
    { weight: 3, arbitrary: validUserFile },
    { weight: 5, arbitrary: spoiledUserFile },
    { weight: 2, arbitrary: anyJson },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 60 }).map((t) => `{"data": ${t}`) },
  )
  .filter((content) => !(SYNC_USERS_CRASHES_ON_NUL && holdsNul(content)));

async function checkUserSync(content: unknown) {
  counter.add("sync-users");
  const db = testDb.handle.db;
  const before = await snapshotTables(db, [users]);
  const result = await cliWithFile("sync-users", content);
  expect([0, 1], result.stderr).toContain(result.code);
  if (result.code !== 0) {
    expect(result.stderr).toMatch(/^error: /);
    expect(await snapshotTables(db, [users]), "a refused file changed users").toEqual(before);
    return;
  }
  expect(result.stdout).toMatch(
    /^Synced \d+ user\(s\) from .*: \d+ inserted, \d+ updated, \d+ unchanged, \d+ deactivated\n$/,
  );
  const records = (Array.isArray(content) ? content : (content as { data: unknown[] }).data) as {
    id: number | string;
    is_active: unknown;
  }[];
  const last = new Map(records.map((r) => [Number(r.id), r]));
  for (const [id, record] of last) {
    const [row] = await db.select().from(users).where(eq(users.id, id));
    const active = record.is_active === true || record.is_active === 1 || record.is_active === "1";
    expect({ id: row?.id, deleted: row?.deletedAt !== null, active: row?.isActive }).toEqual({
      id,
      deleted: !active,
      active,
    });
  }
}

describe("sync-users --file, fuzzed", () => {
  it(
    "applies a good file, refuses a bad one with exit 1 and writes nothing, never throws",
    async () => {
      await fc.assert(fc.asyncProperty(userFile, checkUserSync), {
        numRuns: scaled(60, 5_000),
        endOnFailure: !CHAOS,
      });
    },
    LONG_TIMEOUT,
  );

  it("refuses a user with a U+0000 character with exit 1, naming the record and field", async () => {
    await checkUserSync([{ id: 9001, email: "nul\u0000@example.com", is_active: 1 }]);
  });

  it("writes nothing when user 121 of 150 is refused (no half-written sync)", async () => {
    const records = Array.from({ length: 150 }, (_, i) => ({
      id: 10_001 + i,
      email: `u${i}@example.com`,
      is_active: 1,
    }));
    records[120] = { id: 10_121, email: "bad\u0000@example.com", is_active: 1 };
    await checkUserSync(records);
  });
});
