import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { machineConfigs } from "@cluster-code/db";
import { createTestDatabase, type TestDatabase } from "@cluster-code/db/testing";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../main.js";

// A copy of the replaced system's machine-config file (shared/fixtures/legacy-machine-configs.json).
const fixture = new URL(
  "../../../server/src/machine-configs/fixtures/legacy-machine-configs.json",
  import.meta.url,
).pathname;

let testDb: TestDatabase;
let dir: string;
beforeAll(async () => {
  testDb = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), "cc-import-"));
});
afterAll(async () => {
  await testDb.drop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await testDb.handle.db.delete(machineConfigs);
});

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    env: {},
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    db: testDb.handle,
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

const rowCount = async () => (await testDb.handle.db.select({ n: count() }).from(machineConfigs))[0]?.n;

function writeFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe("import-machine-configs", () => {
  it("imports the legacy fixture's 20 records, then finds all 20 unchanged", async () => {
    const first = await cli("import-machine-configs", "--file", fixture);
    expect(first).toMatchObject({
      code: 0,
      stdout: expect.stringContaining("20 inserted, 0 updated, 0 unchanged"),
    });
    expect(await rowCount()).toBe(20);
    const [nano] = await testDb.handle.db
      .select()
      .from(machineConfigs)
      .where(eq(machineConfigs.instanceType, "t2.nano"));
    expect(nano).toMatchObject({
      cpuCores: 1,
      memoryGb: 0.5,
      storageType: "EBS",
      architecture: "i386, x86_64",
    });

    const second = await cli("import-machine-configs", "--file", fixture);
    expect(second).toMatchObject({
      code: 0,
      stdout: expect.stringContaining("0 inserted, 0 updated, 20 unchanged"),
    });
  });

  it("counts a changed record as updated", async () => {
    await cli("import-machine-configs", "--file", fixture);
    const records = JSON.parse(readFileSync(fixture, "utf8")) as Record<string, unknown>[];
    records[0] = { ...records[0], MemoryGB: 0.75 };
    const result = await cli("import-machine-configs", "--file", writeFile("changed.json", records));
    expect(result.stdout).toContain("0 inserted, 1 updated, 19 unchanged");
  });

  it.each([
    ["a wrong type", (r: Record<string, unknown>) => ({ ...r, CPUCores: "two" }), /record 3: field CPUCores/],
    [
      "a missing InstanceType",
      (r: Record<string, unknown>) => {
        const { InstanceType: _dropped, ...rest } = r;
        return rest;
      },
      /record 3: field InstanceType/,
    ],
  ])(
    "refuses a file with %s, naming the record and field, and writes nothing",
    async (_name, spoil, message) => {
      const records = JSON.parse(readFileSync(fixture, "utf8")) as Record<string, unknown>[];
      records[3] = spoil(records[3] as Record<string, unknown>);
      const result = await cli("import-machine-configs", "--file", writeFile("bad.json", records));
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(message);
      expect(await rowCount()).toBe(0);
    },
  );

  it("accepts this project's camelCase form and reports a dry run without writing", async () => {
    const path = writeFile("camel.json", [{ instanceType: "x1.small", cpuCores: 1, memoryGb: 2 }]);
    const dry = await cli("import-machine-configs", "--file", path, "--dry-run");
    expect(dry.stdout).toContain("Dry run: would import 1 machine config(s): 1 inserted");
    expect(await rowCount()).toBe(0);
    await cli("import-machine-configs", "--file", path);
    expect(await rowCount()).toBe(1);
  });

  it("imports the bundled default set when no file is given", async () => {
    const result = await cli("import-machine-configs");
    expect(result.code).toBe(0);
    expect(await rowCount()).toBeGreaterThan(5);
  });

  it("names an unreadable file", async () => {
    const result = await cli("import-machine-configs", "--file", join(dir, "missing.json"));
    expect(result).toMatchObject({ code: 1, stderr: expect.stringContaining("missing.json") });
  });
});
