import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { envSchema } from "../server/src/config/config.js";

const read = (file: string) => readFileSync(fileURLToPath(new URL(`../${file}`, import.meta.url)), "utf8");

/** Every environment variable the service reads. */
const schemaVariables = Object.keys(envSchema.shape).sort();

/** The `NAME=` lines of .env.example (comments are not settings). */
function envExampleVariables(): string[] {
  return read(".env.example")
    .split("\n")
    .flatMap((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1] ?? []);
}

/** The `NAME`s in the first column of the README's "Configuration" table. */
function readmeTableVariables(): string[] {
  const [, section = ""] = read("README.md").split(/^## Configuration$/m);
  const [table = ""] = section.split(/^## /m);
  return table
    .split("\n")
    .filter((line) => line.startsWith("|"))
    .flatMap((row) =>
      [...(row.split("|")[1] ?? "").matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] as string),
    );
}

describe("configuration docs", () => {
  it(".env.example sets every variable the service reads, once, and no other", () => {
    const documented = envExampleVariables();
    expect(documented.length).toBe(new Set(documented).size);
    expect([...documented].sort()).toEqual(schemaVariables);
  });

  it("the README's configuration table documents every variable the service reads, once, and no other", () => {
    const documented = readmeTableVariables();
    expect(documented.length).toBe(new Set(documented).size);
    expect([...documented].sort()).toEqual(schemaVariables);
  });
});
