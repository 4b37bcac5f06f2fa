import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importMachineConfigs, parseMachineConfigFile } from "../../server/src/machine-configs/import.js";
import {
  clientFor,
  mintMainToken,
  shortTokenFor,
  startTestServer,
  type TestServer,
  type TestUser,
} from "../../server/src/test-support/server.js";
import { appRouter } from "../../server/src/trpc/router.js";
import { anyJson, applySteps, mutationOf, nastyString, pathsOf, withLoneSurrogate } from "./arbitraries.js";
import {
  CHAOS,
  callOverHttp,
  caseCounter,
  healthStatus,
  LONG_TIMEOUT,
  type ProcedureType,
  RawTrpcSocket,
  scaled,
  snapshotTables,
  type TrpcAnswer,
} from "./support.js";

/**
 * Bad input, generated: every procedure of the app router gets arbitrary JSON and spoiled copies
 * of a valid input, from three callers, over HTTP and over the WebSocket. Whatever comes in, the
 * server answers without an INTERNAL_SERVER_ERROR, stays up, and a call that fails changes no row.
 */

const callers = {
  admin: { id: 1, organizationId: 1, roles: ["admin"] },
  member: { id: 2, organizationId: 1 },
  outsider: { id: 3, organizationId: 2 },
} satisfies Record<string, TestUser>;
type Caller = keyof typeof callers;

/** Every procedure by its dotted path: tRPC keeps them flat at run time, though the type is nested. */
const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: ProcedureType } }>;
const procedurePaths = Object.keys(procedures).sort();

const page = { page: 1, limit: 20, q: "a" };
/** A valid input per procedure, naming the objects `beforeAll` creates (ids 1 to 4 of each kind). */
const validInputs: Record<string, Record<string, unknown> | undefined> = {
  "auth.me": undefined,
  "auth.createShortToken": undefined,
  "machineConfig.list": page,
  "machineConfig.get": { id: 1 },
  "provider.list": page,
  "provider.get": { id: 1 },
  "provider.create": {
    name: "aws-frankfurt",
    title: "AWS Frankfurt",
    icon: "https://example.com/aws.svg",
    source: "aws",
    options: { AWS_REGION: "eu-central-1" },
    secretOptions: { AWS_SECRET_ACCESS_KEY: "s3cret" },
    machineTypeOption: "AWS_INSTANCE_TYPE",
  },
  "provider.update": {
    id: 2,
    title: "Docker two",
    source: "docker",
    options: { INACTIVITY_TIMEOUT: "1h" },
    secretOptions: { DOCKER_TOKEN: null, OTHER: "x" },
  },
  "provider.delete": { id: 3 },
  "repository.list": { ...page, status: "confirmed", mine: false },
  "repository.get": { id: 1 },
  "repository.propose": {
    title: "Proposal",
    url: "https://github.com/acme/proposal.git",
    machineConfigId: 1,
  },
  "repository.create": { title: "Service", url: "git@github.com:acme/service.git", machineConfigId: 1 },
  "repository.update": {
    id: 2,
    title: "Renamed",
    url: "ssh://git@github.com:22/acme/x.git",
    machineConfigId: null,
  },
  "repository.confirm": { id: 3 },
  "repository.ignore": { id: 3 },
  "repository.delete": { id: 4 },
  "gitToken.list": page,
  "gitToken.create": { title: "GitLab", token: "glpat-abc", host: "gitlab.com", isDefault: false },
  "gitToken.update": { id: 1, title: "GitHub", token: "ghp_new", host: "github.com", isDefault: true },
  "gitToken.delete": { id: 4 },
  "workspace.create": {
    title: "fuzzed",
    repositoryId: 1,
    providerId: 1,
    machineConfigId: 1,
    gitAccessTokenId: 1,
    ide: "vscode",
    color: "#112233",
    tags: ["a", "b"],
  },
  "workspace.list": { ...page, status: "pending", organizationId: 1 },
  "workspace.get": { id: 1 },
  "workspace.byFingerprint": { fingerprint: "0123456789abcdef" },
  "workspace.update": {
    id: 1,
    title: "t",
    color: null,
    tags: ["x"],
    ide: "zed",
    repositoryId: 1,
    machineConfigId: 1,
  },
  "workspace.start": { id: 1 },
  "workspace.stop": { id: 1 },
  "workspace.restart": { id: 2 },
  "workspace.rebuild": { id: 2 },
  "workspace.delete": { id: 3 },
  "workspace.cancel": { id: 1 },
  "workspace.logs": { workspaceId: 1, after: 0, limit: 100 },
  "events.workspace": { workspaceId: 1, lastEventId: "0" },
  "events.mine": { lastEventId: 0 },
};

/** One generated call. `raw` replaces the JSON of `input` with text that may not be JSON at all. */
interface Case {
  path: string;
  caller: Caller;
  transport: "http" | "ws";
  input: unknown;
  raw?: string;
}

const ABSENT = undefined;

function inputFor(path: string): fc.Arbitrary<{ input: unknown; raw?: string }> {
  const base = validInputs[path];
  const input = (arbitrary: fc.Arbitrary<unknown>) => arbitrary.map((value) => ({ input: value }));
  const raw = fc
    .oneof(
      fc.string({ unit: "binary", maxLength: 60 }),
      fc.constantFrom("{", "[", '{"id":', "undefined", "NaN", '{"id":1}garbage', "\u0000"),
      anyJson.map((value) => `${JSON.stringify(value) ?? ""}}`),
    )
    .map((text) => ({ input: undefined, raw: text }));
  return fc.oneof(
    { weight: 1, arbitrary: input(fc.constant(base)) },
    { weight: 6, arbitrary: input(base ? mutationOf(base) : anyJson) },
    { weight: 3, arbitrary: input(anyJson) },
    { weight: 1, arbitrary: input(fc.constant(ABSENT)) },
    { weight: 1, arbitrary: raw },
  );
}

const caseArbitrary: fc.Arbitrary<Case> = fc
  .record({
    path: fc.constantFrom(...procedurePaths),
    caller: fc.constantFrom<Caller>("admin", "member", "outsider"),
    transport: fc.constantFrom<Case["transport"]>("http", "ws"),
  })
  .chain((call) => inputFor(call.path).map((input) => ({ ...call, ...input })));

let app: TestServer;
const tokens = {} as Record<Caller, string>;
const sockets = {} as Record<Caller, RawTrpcSocket>;
const counter = caseCounter("generated tRPC calls");
const answers = caseCounter("answers to generated tRPC calls, by code");

beforeAll(async () => {
  app = await startTestServer();
  const db = app.db.handle.db;
  await importMachineConfigs(
    db,
    parseMachineConfigFile([
      { instanceType: "t3.medium", cpuCores: 2, memoryGb: 4 },
      { instanceType: "t3.large", cpuCores: 2, memoryGb: 8 },
    ]),
  );
  const admin = await clientFor(app, callers.admin);
  const member = await clientFor(app, callers.member);
  for (const name of ["docker-1", "docker-2", "docker-3", "docker-4"])
    await admin.provider.create.mutate({ name, source: "docker", secretOptions: { DOCKER_TOKEN: "t" } });
  for (const n of [1, 2, 3, 4]) {
    const url = `https://github.com/acme/app-${n}.git`;
    if (n === 3) await member.repository.propose.mutate({ title: `App ${n}`, url });
    else await admin.repository.create.mutate({ title: `App ${n}`, url, machineConfigId: 1 });
  }
  for (const client of [admin, member, admin, member])
    await client.gitToken.create.mutate({ title: "GitHub", token: "ghp_seeded", host: "github.com" });
  for (const client of [admin, member, admin, member])
    await client.workspace.create.mutate({ title: "Seeded", repositoryId: 1, providerId: 1 });
  for (const caller of Object.keys(callers) as Caller[]) {
    tokens[caller] = await mintMainToken(callers[caller]);
    sockets[caller] = await RawTrpcSocket.open(app.wsUrl, await shortTokenFor(app, callers[caller]));
  }
});
afterAll(async () => {
  for (const socket of Object.values(sockets)) socket?.close();
  await app?.stop();
});

const MAX_WS_MESSAGE_BYTES = 64 * 1024;

async function send(call: Case): Promise<TrpcAnswer> {
  const type = procedures[call.path]?._def.type ?? "query";
  if (type !== "subscription" && (call.transport === "http" || call.raw !== undefined))
    return callOverHttp(app.url, tokens[call.caller], {
      type,
      path: call.path,
      input: call.input,
      raw: call.raw,
    });
  let socket = sockets[call.caller];
  if (!socket.isOpen) {
    socket = await RawTrpcSocket.open(app.wsUrl, await shortTokenFor(app, callers[call.caller]));
    sockets[call.caller] = socket;
  }
  return socket.call(type, call.path, call.input);
}

/** Sends one call and checks the promise: no 500, and a failed call leaves every table as it was. */
async function checkCall(call: Case, kind: string): Promise<void> {
  counter.add(kind);
  const db = app.db.handle.db;
  const before = await snapshotTables(db);
  const answer = await send(call);
  answers.add(answer.code ?? (answer.status === 0 ? `closed ${answer.closeCode}` : String(answer.status)));
  const what = `${call.path} by ${call.caller} over ${call.transport}`;
  expect(answer.code, `${what} answered ${answer.message}`).not.toBe("INTERNAL_SERVER_ERROR");
  expect(answer.status, `${what}: ${answer.text ?? answer.message}`).not.toBeGreaterThanOrEqual(500);
  if (answer.status === 0) {
    // The only reason to close the socket on a call: a message past the inbound size cap.
    expect(answer.closeCode).toBe(1009);
    const message = JSON.stringify({
      id: 0,
      method: "query",
      params: { path: call.path, input: call.input },
    });
    expect(Buffer.byteLength(message)).toBeGreaterThan(MAX_WS_MESSAGE_BYTES - 32);
  }
  if (answer.status !== 200)
    expect(await snapshotTables(db), `${what} failed but changed rows`).toEqual(before);
}

describe("fuzzing every procedure's input", () => {
  it("has a valid input for every procedure of the app router", () => {
    expect(Object.keys(validInputs).sort()).toEqual(procedurePaths);
  });

  it(
    "never answers INTERNAL_SERVER_ERROR, and a failed call changes no row",
    async () => {
      let calls = 0;
      await fc.assert(
        fc.asyncProperty(caseArbitrary, async (call) => {
          await checkCall(call, "arbitrary and mutated inputs");
          if (++calls % 500 === 0) expect(await healthStatus(app.url)).toBe(200);
        }),
        { numRuns: scaled(250, 10_000), endOnFailure: !CHAOS },
      );
      expect(await healthStatus(app.url)).toBe(200);
      for (const socket of Object.values(sockets))
        expect(socket.strayErrors.map((m) => m.error?.data?.code)).not.toContain("INTERNAL_SERVER_ERROR");
    },
    LONG_TIMEOUT,
  );

  it("answers every procedure's valid input without a 500 (the generator's base cases are sound)", async () => {
    for (const path of procedurePaths)
      await checkCall({ path, caller: "admin", transport: "http", input: validInputs[path] }, "valid inputs");
  });

  // Regression: the NUL scan of the raw input (`nulPath` in trpc.ts) once recursed per level, so
  // a body nested ~5,000 levels deep (10 KB) overflowed the stack: INTERNAL_SERVER_ERROR.
  it("refuses input nested thousands of levels deep with BAD_REQUEST, not a 500", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...procedurePaths.filter((p) => procedures[p]?._def.type === "mutation")),
        fc.integer({ min: 5_000, max: 200_000 }),
        fc.constantFrom("array" as const, "object" as const),
        async (path, depth, kind) => {
          // Written as text: JSON.stringify itself recurses, and would overflow this process's stack.
          const raw =
            kind === "array"
              ? `${"[".repeat(depth)}1${"]".repeat(depth)}`
              : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
          await checkCall(
            { path, caller: "admin", transport: "http", input: undefined, raw },
            "deep nesting",
          );
        },
      ),
      { numRuns: scaled(20, 500), endOnFailure: true },
    );
  });

  // Regression: JSON may carry a lone UTF-16 surrogate ("\udfff"); zod took it as a string and
  // Postgres refused it inside jsonb: INTERNAL_SERVER_ERROR (provider options, workspace titles
  // copied into the workspace_created event).
  it("refuses or stores strings holding a lone UTF-16 surrogate, never a 500", async () => {
    const writers = procedurePaths.filter((p) => {
      const base = validInputs[p];
      return base && pathsOf(base).some((path) => typeof lookup(base, path) === "string");
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...writers).chain((path) => {
          const base = validInputs[path] as Record<string, unknown>;
          const stringPaths = pathsOf(base).filter((p) => typeof lookup(base, p) === "string");
          return fc
            .tuple(
              fc.constantFrom(...stringPaths),
              withLoneSurrogate,
              fc.constantFrom<Case["transport"]>("http", "ws"),
            )
            .map(([at, text, transport]) => ({
              path,
              caller: "admin" as const,
              transport,
              input: applySteps(base, [{ op: "set", path: at, value: text }]),
            }));
        }),
        async (call) => checkCall(call, "lone surrogates"),
      ),
      {
        numRuns: scaled(100, 2_000),
        endOnFailure: true,
        // The reproduction, first: a fresh provider whose plain option holds a lone surrogate.
        examples: [
          [
            {
              path: "provider.create",
              caller: "admin",
              transport: "http",
              input: { name: "lone-surrogate", source: "docker", options: { A: "\udfff" } },
            },
          ],
        ],
      },
    );
  });

  it(
    "keeps answering strings of any well-formed Unicode in every text field",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...procedurePaths).chain((path) => {
            const base = validInputs[path];
            const stringPaths = base ? pathsOf(base).filter((p) => typeof lookup(base, p) === "string") : [];
            if (!base || !stringPaths.length)
              return fc.constant({ path, caller: "admin" as const, transport: "http" as const, input: base });
            return fc.tuple(fc.constantFrom(...stringPaths), nastyString).map(([at, text]) => ({
              path,
              caller: "admin" as const,
              transport: "http" as const,
              input: applySteps(base, [{ op: "set", path: at, value: text }]),
            }));
          }),
          async (call) => checkCall(call, "hostile strings"),
        ),
        { numRuns: scaled(60, 2_000) },
      );
    },
    LONG_TIMEOUT,
  );
});

function lookup(value: Record<string, unknown>, path: string[]): unknown {
  let current: unknown = value;
  for (const key of path) current = (current as Record<string, unknown> | undefined)?.[key];
  return current;
}
