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
const unstorable = caseCounter("generated CLI import files holding a value the database refuses");

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
 * Records the schema would accept but Postgres would not (a U+0000 in a text field, cpuCores or
 * storageSizeGb past the `integer` column) are generated on purpose: they once made the CLI throw
 * the raw DrizzleQueryError instead of exiting 1 (see the regression tests below).
 */
const INT32_MAX = 2 ** 31 - 1;
const overflowsInteger = (content: unknown) =>
  Array.isArray(content) &&
  content.some((record) =>
    ["cpuCores", "CPUCores", "storageSizeGb", "StorageSizeGB"].some((key) => {
      const value = (record as Record<string, unknown> | null)?.[key];
      return typeof value === "number" && Math.abs(value) > INT32_MAX;
    }),
  );

/** A valid file with one record the database would refuse: U+0000 in a text, an int past int32. */
const unstorableMachineFile = fc
  .tuple(
    fc.uniqueArray(camelRecord, { selector: (r) => r.instanceType, minLength: 1, maxLength: 8 }),
    fc.boolean(),
    fc.oneof(
      fc.record({ key: fc.constantFrom("category", "gpu", "architecture"), value: fc.constant("a\u0000b") }),
      fc.record({
        key: fc.constantFrom("cpuCores", "storageSizeGb"),
        value: fc.oneof(fc.constant(2 ** 31), fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER })),
      }),
    ),
  )
  .chain(([records, legacy, { key, value }]) =>
    fc.nat({ max: records.length - 1 }).map((index) => {
      const spoiled = records.map((r, i) => (i === index ? { ...r, [key]: value } : r));
      return legacy ? spoiled.map(toLegacy) : spoiled;
    }),
  );

const machineFile = fc.oneof(
  { weight: 3, arbitrary: validMachineFile },
  { weight: 5, arbitrary: spoiledMachineFile },
  { weight: 1, arbitrary: unstorableMachineFile },
  { weight: 2, arbitrary: anyJson },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 60 }).map((text) => `[${text}`) },
);

async function checkMachineImport(content: unknown, dryRun: boolean) {
  counter.add("import-machine-configs");
  if (holdsNul(content) || overflowsInteger(content)) unstorable.add("import-machine-configs");
  const db = testDb.handle.db;
  const before = await snapshotTables(db, [machineConfigs]);
  const result = await cliWithFile("import-machine-configs", content, dryRun ? ["--dry-run"] : []);
  expect([0, 1], result.stderr).toContain(result.code);
  if (result.code !== 0 || dryRun) {
    if (result.code !== 0) expect(result.stderr).toMatch(/^error: /);
    expect(await snapshotTables(db, [machineConfigs])).toEqual(before);
    return result;
  }
  expect(result.stdout).toMatch(
    /^Imported \d+ machine config\(s\): \d+ inserted, \d+ updated, \d+ unchanged\n$/,
  );
  for (const record of content as Record<string, unknown>[]) {
    const instanceType = String(record.instanceType ?? record.InstanceType).trim();
    const [row] = await db.select().from(machineConfigs).where(eq(machineConfigs.instanceType, instanceType));
    expect(row?.cpuCores).toBe(record.cpuCores ?? record.CPUCores);
  }
  return result;
}

describe("import-machine-configs --file, fuzzed", () => {
  it(
    "applies a good file, refuses a bad one with exit 1 and writes nothing, never throws",
    async () => {
      await fc.assert(
        fc.asyncProperty(machineFile, fc.boolean(), async (content, dryRun) => {
          await checkMachineImport(content, dryRun);
        }),
        {
          numRuns: scaled(100, 5_000),
          endOnFailure: !CHAOS,
        },
      );
    },
    LONG_TIMEOUT,
  );

  // Regressions: both once threw the raw DrizzleQueryError (SQL and all) out of `runCli`.
  it("refuses a record with a U+0000 character with exit 1, naming the record and field", async () => {
    const file = [
      { instanceType: "ok.large", cpuCores: 1, memoryGb: 1 },
      { instanceType: "nul.large", cpuCores: 1, memoryGb: 1, gpu: "a\u0000b" },
    ];
    const result = await checkMachineImport(file, false);
    expect(result).toMatchObject({ code: 1, stderr: expect.stringMatching(/record 1: field gpu/) });
  });

  it("refuses cpuCores past the integer column (2^31) with exit 1, naming the record and field", async () => {
    const result = await checkMachineImport(
      [{ InstanceType: "huge.metal", CPUCores: 2 ** 31, MemoryGB: 1 }],
      false,
    );
    expect(result).toMatchObject({ code: 1, stderr: expect.stringMatching(/record 0: field CPUCores/) });
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

/** A valid file with one user the database would refuse (U+0000 in a text), on any page. */
const unstorableUserFile = fc
  .tuple(
    identityUsers.filter((records) => records.length > 0),
    fc.constantFrom("email", "name", "username"),
  )
  .chain(([records, key]) =>
    fc
      .nat({ max: records.length - 1 })
      .map((index) => records.map((r, i) => (i === index ? { ...r, [key]: "nul\u0000" } : r))),
  );

const userFile = fc.oneof(
  { weight: 3, arbitrary: validUserFile },
  { weight: 5, arbitrary: spoiledUserFile },
  { weight: 1, arbitrary: unstorableUserFile },
  { weight: 2, arbitrary: anyJson },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 60 }).map((t) => `{"data": ${t}`) },
);

async function checkUserSync(content: unknown) {
  counter.add("sync-users");
  if (holdsNul(content)) unstorable.add("sync-users");
  const db = testDb.handle.db;
  const before = await snapshotTables(db, [users]);
  const result = await cliWithFile("sync-users", content);
  expect([0, 1], result.stderr).toContain(result.code);
  if (result.code !== 0) {
    expect(result.stderr).toMatch(/^error: /);
    expect(await snapshotTables(db, [users]), "a refused file changed users").toEqual(before);
    return result;
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
  return result;
}

describe("sync-users --file, fuzzed", () => {
  it(
    "applies a good file, refuses a bad one with exit 1 and writes nothing, never throws",
    async () => {
      await fc.assert(
        fc.asyncProperty(userFile, async (content) => {
          await checkUserSync(content);
        }),
        {
          numRuns: scaled(60, 5_000),
          endOnFailure: !CHAOS,
        },
      );
    },
    LONG_TIMEOUT,
  );

  // Regressions: a U+0000 once threw the raw DrizzleQueryError out of `runCli`, and with the bad
  // user past the first 100 (each 100 applied in a transaction of their own), after committing them.
  it("refuses a user with a U+0000 character with exit 1, naming the record and field", async () => {
    const result = await checkUserSync([{ id: 9001, email: "nul\u0000@example.com", is_active: 1 }]);
    expect(result).toMatchObject({ code: 1, stderr: expect.stringMatching(/record 0: field email/) });
  });

  it("writes nothing when user 121 of 150 is refused (no half-written sync)", async () => {
    const records = Array.from({ length: 150 }, (_, i) => ({
      id: 10_001 + i,
      email: `u${i}@example.com`,
      is_active: 1,
    }));
    records[120] = { id: 10_121, email: "bad\u0000@example.com", is_active: 1 };
    expect(await checkUserSync(records)).toMatchObject({ code: 1 });
  });
});
