import {
  auditLog,
  gitAccessTokens,
  providers,
  repositories,
  workspaceEvents,
  workspaceOperations,
  workspaces,
} from "@cluster-code/db";
import { asc, getTableName } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  clientFor,
  mintMainToken,
  startTestServer,
  type TestClient,
  type TestServer,
  type TestUser,
} from "../test-support/server.js";
import { appRouter } from "./router.js";

/**
 * The catalog's promise: every procedure refuses malformed input with BAD_REQUEST, the
 * VALIDATION_FAILED app code and zod issues that name the bad field; and a create that fails,
 * before or after validation, leaves no row behind.
 */

const admin: TestUser = { id: 1, organizationId: 1, roles: ["admin"] };
/**
 * Inputs name objects by this id: the first of each kind, which `beforeAll` creates in this test's
 * own database. So an input is wrong only where its row says.
 */
const SEEDED_ID = 1;
const seededProvider = { name: "docker-local", source: "docker" };

interface BadInput {
  /** What is wrong with the input, as the test title says it. */
  what: string;
  input: unknown;
  /** The path of the zod issue that must name the bad field; `[]` is the input as a whole. */
  at: (string | number)[];
}

/** Procedures without an input: nothing can be malformed. */
const NO_INPUT = "takes no input";

const long = (length: number) => "x".repeat(length);
const NUL = "a\u0000b";
const nulRow = (_path: string, base: object, field: string): BadInput => ({
  what: `a ${field} with a U+0000 character`,
  input: { ...base, [field]: NUL },
  at: [field],
});

const notAnObject: BadInput[] = [
  { what: "a string instead of the input object", input: "1", at: [] },
  { what: "null instead of the input object", input: null, at: [] },
];

const badIds = (field = "id"): BadInput[] => [
  ...notAnObject,
  { what: `no ${field}`, input: {}, at: [field] },
  { what: `${field} -1`, input: { [field]: -1 }, at: [field] },
  { what: `${field} 0`, input: { [field]: 0 }, at: [field] },
  { what: `a fractional ${field}`, input: { [field]: 1.5 }, at: [field] },
  { what: `${field} as a string`, input: { [field]: "1" }, at: [field] },
  { what: `${field} beyond the safe integers`, input: { [field]: 2 ** 53 }, at: [field] },
];

const badPages = (path: string): BadInput[] => [
  { what: "a string instead of the paging object", input: "page=1", at: [] },
  { what: "null instead of the paging object", input: null, at: [] },
  { what: "limit 101", input: { limit: 101 }, at: ["limit"] },
  { what: "limit 0", input: { limit: 0 }, at: ["limit"] },
  { what: "page 0", input: { page: 0 }, at: ["page"] },
  { what: "page -1", input: { page: -1 }, at: ["page"] },
  { what: "a fractional page", input: { page: 1.5 }, at: ["page"] },
  { what: "page as a string", input: { page: "2" }, at: ["page"] },
  { what: "q over 200 characters", input: { q: long(201) }, at: ["q"] },
  { what: "q as a number", input: { q: 5 }, at: ["q"] },
  nulRow(path, {}, "q"),
];

const validProvider = { name: "aws-frankfurt", source: "aws" };

const badProviderFields = (base: object): BadInput[] => [
  { what: "a name in capitals and underscores", input: { ...base, name: "Bad_Name" }, at: ["name"] },
  { what: "a name that starts with -", input: { ...base, name: "-rf" }, at: ["name"] },
  { what: "a name over 32 characters", input: { ...base, name: long(33) }, at: ["name"] },
  { what: "an empty name", input: { ...base, name: "" }, at: ["name"] },
  { what: "a name as a number", input: { ...base, name: 42 }, at: ["name"] },
  { what: "a source with whitespace", input: { ...base, source: "docker --debug" }, at: ["source"] },
  { what: "a source that starts with -", input: { ...base, source: "--proxy=x" }, at: ["source"] },
  { what: "a source over 512 characters", input: { ...base, source: long(513) }, at: ["source"] },
  { what: "a blank title", input: { ...base, title: "   " }, at: ["title"] },
  { what: "a title over 200 characters", input: { ...base, title: long(201) }, at: ["title"] },
  { what: "an icon over 2048 characters", input: { ...base, icon: long(2049) }, at: ["icon"] },
  {
    what: "an option key in lower case",
    input: { ...base, options: { aws_region: "eu-central-1" } },
    at: ["options", "aws_region"],
  },
  {
    what: "an option value that is not a string",
    input: { ...base, options: { AWS_REGION: 5 } },
    at: ["options", "AWS_REGION"],
  },
  {
    what: "an option value over 8192 characters",
    input: { ...base, options: { AWS_REGION: long(8193) } },
    at: ["options", "AWS_REGION"],
  },
  {
    what: "more than 100 options",
    input: { ...base, options: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`K${i}`, "v"])) },
    at: ["options"],
  },
  { what: "options as an array", input: { ...base, options: ["AWS_REGION"] }, at: ["options"] },
  {
    what: "a secret option key with a hyphen",
    input: { ...base, secretOptions: { "AWS-SECRET": "s3cret" } },
    at: ["secretOptions", "AWS-SECRET"],
  },
  {
    what: "a machineTypeOption that is not an option name",
    input: { ...base, machineTypeOption: "instance type" },
    at: ["machineTypeOption"],
  },
];

const validRepository = { title: "Cluster Code", url: "https://github.com/acme/cluster-code.git" };

const badRepositoryFields = (base: object): BadInput[] => [
  { what: "a blank title", input: { ...base, title: " " }, at: ["title"] },
  { what: "a title over 200 characters", input: { ...base, title: long(201) }, at: ["title"] },
  { what: "a title as a number", input: { ...base, title: 7 }, at: ["title"] },
  { what: "a plain-http git URL", input: { ...base, url: "http://github.com/acme/app.git" }, at: ["url"] },
  {
    what: "a git URL with credentials in it",
    input: { ...base, url: "https://bob:hunter2@github.com/acme/app.git" },
    at: ["url"],
  },
  {
    what: "a git URL with whitespace",
    input: { ...base, url: "https://github.com/acme/my app.git" },
    at: ["url"],
  },
  {
    what: "a git URL whose path starts with - (option injection)",
    input: { ...base, url: "git@github.com:-oProxyCommand=evil/app.git" },
    at: ["url"],
  },
  {
    what: "an ssh git URL with port 70000",
    input: { ...base, url: "ssh://git@github.com:70000/acme/app.git" },
    at: ["url"],
  },
  { what: "a file: URL", input: { ...base, url: "file:///etc/passwd" }, at: ["url"] },
  {
    what: "a git URL over 2048 characters",
    input: { ...base, url: `https://github.com/acme/${long(2048)}.git` },
    at: ["url"],
  },
  { what: "machineConfigId 0", input: { ...base, machineConfigId: 0 }, at: ["machineConfigId"] },
  { what: "machineConfigId as a string", input: { ...base, machineConfigId: "1" }, at: ["machineConfigId"] },
];

const badRepositoryCreate = (path: string): BadInput[] => [
  ...notAnObject,
  { what: "no title", input: { url: validRepository.url }, at: ["title"] },
  { what: "no url", input: { title: validRepository.title }, at: ["url"] },
  ...badRepositoryFields(validRepository),
  nulRow(path, validRepository, "title"),
];

const validWorkspace = { title: "my workspace", repositoryId: SEEDED_ID, providerId: SEEDED_ID };
const badWorkspaceFields = (base: object): BadInput[] => [
  { what: "an empty title", input: { ...base, title: "" }, at: ["title"] },
  { what: "a title over 100 characters", input: { ...base, title: long(101) }, at: ["title"] },
  { what: "an unknown ide", input: { ...base, ide: "emacs" }, at: ["ide"] },
  { what: "a color name instead of #rrggbb", input: { ...base, color: "red" }, at: ["color"] },
  { what: "a short color", input: { ...base, color: "#fff" }, at: ["color"] },
  { what: "tags as a string", input: { ...base, tags: "a,b" }, at: ["tags"] },
  {
    what: "more than 20 tags",
    input: { ...base, tags: Array.from({ length: 21 }, (_, i) => `t${i}`) },
    at: ["tags"],
  },
  { what: "a tag over 32 characters", input: { ...base, tags: ["ok", long(33)] }, at: ["tags", 1] },
  { what: "a blank tag", input: { ...base, tags: [" "] }, at: ["tags", 0] },
  { what: "machineConfigId -1", input: { ...base, machineConfigId: -1 }, at: ["machineConfigId"] },
];

/** `lastEventId`: an event id, as a number or as the string a tracked subscription resumes from. */
const badLastEventIds = (base: object): BadInput[] => [
  { what: "lastEventId -1", input: { ...base, lastEventId: -1 }, at: ["lastEventId"] },
  { what: "a fractional lastEventId", input: { ...base, lastEventId: 1.5 }, at: ["lastEventId"] },
  { what: "lastEventId as a word", input: { ...base, lastEventId: "latest" }, at: ["lastEventId"] },
  { what: "lastEventId as a negative string", input: { ...base, lastEventId: "-5" }, at: ["lastEventId"] },
  {
    what: "lastEventId as a string beyond the safe integers",
    input: { ...base, lastEventId: "99999999999999999999999" },
    at: ["lastEventId"],
  },
  { what: "lastEventId as an object", input: { ...base, lastEventId: { id: 1 } }, at: ["lastEventId"] },
];

/** One row per procedure of the app router; the first test fails when one is missing. */
const badInputs: Record<string, BadInput[] | typeof NO_INPUT> = {
  "auth.me": NO_INPUT,
  "auth.createShortToken": NO_INPUT,

  "machineConfig.list": badPages("machineConfig.list"),
  "machineConfig.get": badIds(),

  "provider.list": badPages("provider.list"),
  "provider.get": badIds(),
  "provider.create": [
    ...notAnObject,
    { what: "no name", input: { source: "docker" }, at: ["name"] },
    { what: "no source", input: { name: "docker" }, at: ["source"] },
    ...badProviderFields(validProvider),
    {
      what: "an empty secret option value",
      input: { ...validProvider, secretOptions: { AWS_SECRET_ACCESS_KEY: "" } },
      at: ["secretOptions", "AWS_SECRET_ACCESS_KEY"],
    },
    {
      what: "a null secret option value (null only removes one on update)",
      input: { ...validProvider, secretOptions: { AWS_SECRET_ACCESS_KEY: null } },
      at: ["secretOptions", "AWS_SECRET_ACCESS_KEY"],
    },
    // Only the operator at the CLI may put a provider in another organization.
    { what: "an unknown field (organizationId)", input: { ...validProvider, organizationId: 2 }, at: [] },
    nulRow("provider.create", validProvider, "title"),
    {
      what: "an option value with a U+0000 character",
      input: { ...validProvider, options: { AWS_REGION: NUL } },
      at: ["options", "AWS_REGION"],
    },
    {
      what: "a secret option value with a U+0000 character",
      input: { ...validProvider, secretOptions: { AWS_SECRET_ACCESS_KEY: NUL } },
      at: ["secretOptions", "AWS_SECRET_ACCESS_KEY"],
    },
  ],
  "provider.update": [
    ...badIds(),
    ...badProviderFields({ id: SEEDED_ID }),
    {
      what: "an empty secret option value (null removes one)",
      input: { id: SEEDED_ID, secretOptions: { AWS_SECRET_ACCESS_KEY: "" } },
      at: ["secretOptions", "AWS_SECRET_ACCESS_KEY"],
    },
    { what: "an unknown field (createdById)", input: { id: SEEDED_ID, createdById: 2 }, at: [] },
    nulRow("provider.update", { id: SEEDED_ID }, "title"),
  ],
  "provider.delete": badIds(),

  "repository.list": [
    ...badPages("repository.list"),
    { what: "an unknown status", input: { status: "archived" }, at: ["status"] },
    { what: "mine as a string", input: { mine: "yes" }, at: ["mine"] },
  ],
  "repository.get": badIds(),
  "repository.propose": badRepositoryCreate("repository.propose"),
  "repository.create": badRepositoryCreate("repository.create"),
  "repository.update": [
    ...badIds(),
    { what: "nothing to change", input: { id: SEEDED_ID }, at: [] },
    ...badRepositoryFields({ id: SEEDED_ID }),
    {
      what: "an unknown status (not a field of update)",
      input: { id: SEEDED_ID, status: "confirmed" },
      at: [],
    },
    nulRow("repository.update", { id: SEEDED_ID }, "title"),
  ],
  "repository.confirm": badIds(),
  "repository.ignore": badIds(),
  "repository.delete": badIds(),

  "gitToken.list": badPages("gitToken.list"),
  "gitToken.create": [
    ...notAnObject,
    { what: "no token", input: { title: "GitHub" }, at: ["token"] },
    { what: "no title", input: { token: "ghp_abc" }, at: ["title"] },
    { what: "an empty token", input: { title: "GitHub", token: "" }, at: ["token"] },
    { what: "a token with whitespace", input: { title: "GitHub", token: "ghp abc" }, at: ["token"] },
    { what: "a token over 4096 characters", input: { title: "GitHub", token: long(4097) }, at: ["token"] },
    { what: "a token as a number", input: { title: "GitHub", token: 12345 }, at: ["token"] },
    { what: "a blank title", input: { title: "  ", token: "ghp_abc" }, at: ["title"] },
    { what: "a title over 200 characters", input: { title: long(201), token: "ghp_abc" }, at: ["title"] },
    {
      what: "isDefault as a string",
      input: { title: "GitHub", token: "ghp_abc", isDefault: "true" },
      at: ["isDefault"],
    },
    nulRow("gitToken.create", { token: "ghp_abc", host: "github.com" }, "title"),
    { what: "no host", input: { title: "GitHub", token: "ghp_abc" }, at: ["host"] },
    {
      what: "a host with a scheme",
      input: { title: "GitHub", token: "ghp_abc", host: "https://github.com" },
      at: ["host"],
    },
    {
      what: "a host with a path",
      input: { title: "GitHub", token: "ghp_abc", host: "github.com/acme" },
      at: ["host"],
    },
    nulRow("gitToken.create", { title: "GitHub", token: "ghp_abc" }, "host"),
    {
      what: "a token with a U+0000 character",
      input: { title: "GitHub", token: "ghp_\u0000abc" },
      at: ["token"],
    },
  ],
  "gitToken.update": [
    ...badIds(),
    { what: "nothing to change", input: { id: SEEDED_ID }, at: [] },
    { what: "a token with whitespace", input: { id: SEEDED_ID, token: "ghp abc" }, at: ["token"] },
    { what: "a blank title", input: { id: SEEDED_ID, title: "" }, at: ["title"] },
    { what: "isDefault as a number", input: { id: SEEDED_ID, isDefault: 1 }, at: ["isDefault"] },
    nulRow("gitToken.update", { id: SEEDED_ID }, "title"),
    { what: "a host with a port out of range", input: { id: SEEDED_ID, host: "github.com:0" }, at: ["host"] },
  ],
  "gitToken.delete": badIds(),

  "workspace.create": [
    ...notAnObject,
    { what: "no title", input: { repositoryId: SEEDED_ID, providerId: SEEDED_ID }, at: ["title"] },
    { what: "no repositoryId", input: { title: "ws", providerId: SEEDED_ID }, at: ["repositoryId"] },
    { what: "no providerId", input: { title: "ws", repositoryId: SEEDED_ID }, at: ["providerId"] },
    { what: "repositoryId -1", input: { ...validWorkspace, repositoryId: -1 }, at: ["repositoryId"] },
    { what: "providerId as a string", input: { ...validWorkspace, providerId: "1" }, at: ["providerId"] },
    {
      what: "a fractional gitAccessTokenId",
      input: { ...validWorkspace, gitAccessTokenId: 1.5 },
      at: ["gitAccessTokenId"],
    },
    ...badWorkspaceFields(validWorkspace),
    nulRow("workspace.create", validWorkspace, "title"),
    {
      what: "a tag with a U+0000 character",
      input: { ...validWorkspace, tags: [NUL] },
      at: ["tags", 0],
    },
  ],
  "workspace.list": [
    ...badPages("workspace.list"),
    { what: "an unknown status", input: { status: "sleeping" }, at: ["status"] },
    { what: "organizationId -1", input: { organizationId: -1 }, at: ["organizationId"] },
  ],
  "workspace.get": badIds(),
  "workspace.byFingerprint": [
    ...notAnObject,
    { what: "no fingerprint", input: {}, at: ["fingerprint"] },
    { what: "a fingerprint in capitals", input: { fingerprint: "ABCDEF0123" }, at: ["fingerprint"] },
    { what: "a fingerprint under 8 characters", input: { fingerprint: "abc123" }, at: ["fingerprint"] },
    { what: "a fingerprint over 64 characters", input: { fingerprint: long(65) }, at: ["fingerprint"] },
    { what: "a fingerprint as a number", input: { fingerprint: 12345678 }, at: ["fingerprint"] },
  ],
  "workspace.update": [
    ...badIds(),
    ...badWorkspaceFields({ id: SEEDED_ID }),
    { what: "repositoryId 0", input: { id: SEEDED_ID, repositoryId: 0 }, at: ["repositoryId"] },
    nulRow("workspace.update", { id: SEEDED_ID }, "title"),
    {
      what: "a tag with a U+0000 character",
      input: { id: SEEDED_ID, tags: [NUL] },
      at: ["tags", 0],
    },
  ],
  "workspace.start": badIds(),
  "workspace.stop": badIds(),
  "workspace.restart": badIds(),
  "workspace.rebuild": badIds(),
  "workspace.delete": badIds(),
  "workspace.cancel": badIds(),
  "workspace.logs": [
    ...badIds("workspaceId"),
    { what: "limit 1001", input: { workspaceId: SEEDED_ID, limit: 1001 }, at: ["limit"] },
    { what: "limit 0", input: { workspaceId: SEEDED_ID, limit: 0 }, at: ["limit"] },
    { what: "after -1", input: { workspaceId: SEEDED_ID, after: -1 }, at: ["after"] },
    { what: "a fractional after", input: { workspaceId: SEEDED_ID, after: 2.5 }, at: ["after"] },
  ],

  "events.workspace": [...badIds("workspaceId"), ...badLastEventIds({ workspaceId: SEEDED_ID })],
  "events.mine": [...notAnObject, ...badLastEventIds({})],
};

/** Every procedure by its dotted path: tRPC keeps them flat at run time, though the type is nested. */
const procedures = appRouter._def.procedures as unknown as Record<
  string,
  { _def: { type: "query" | "mutation" | "subscription"; inputs: unknown[] } }
>;
const procedurePaths = Object.keys(procedures);

let app: TestServer;
let asAdmin: TestClient;
let adminToken: string;
/** One WebSocket for every subscription of this file, opened when the first one is sent. */
let socket: Promise<WebSocket> | undefined;
let lastRequestId = 0;

beforeAll(async () => {
  app = await startTestServer();
  [asAdmin, adminToken] = await Promise.all([clientFor(app, admin), mintMainToken(admin)]);
  const provider = await asAdmin.provider.create.mutate(seededProvider);
  const repository = await asAdmin.repository.create.mutate(validRepository);
  const token = await asAdmin.gitToken.create.mutate({
    title: "the default",
    token: "ghp_old",
    host: "github.com",
    isDefault: true,
  });
  const workspace = await asAdmin.workspace.create.mutate(validWorkspace);
  expect([provider.id, repository.id, token.id, workspace.id]).toEqual([
    SEEDED_ID,
    SEEDED_ID,
    SEEDED_ID,
    SEEDED_ID,
  ]);
});
afterAll(async () => {
  (await socket)?.close();
  await app?.stop();
});

interface TrpcAnswer {
  status: number;
  error?: {
    data?: {
      code?: string;
      httpStatus?: number;
      appCode?: string | null;
      zodIssues?: { path: (string | number)[] }[] | null;
    };
  };
}

/**
 * Calls a procedure as a client that ignores the types would: a query as `GET ?input=` and a
 * mutation as a POSTed JSON body over HTTP, a subscription over the WebSocket.
 */
async function send(path: string, input: unknown): Promise<TrpcAnswer> {
  const type = procedures[path]?._def.type;
  if (type === "subscription") return subscribe(path, input);
  const url = new URL(`${app.url}/trpc/${path}`);
  const headers: Record<string, string> = { authorization: `Bearer ${adminToken}` };
  let init: RequestInit = { headers };
  if (type === "query") {
    if (input !== undefined) url.searchParams.set("input", JSON.stringify(input));
  } else {
    headers["content-type"] = "application/json";
    init = { method: "POST", headers, body: JSON.stringify(input) };
  }
  const response = await fetch(url, init);
  return { status: response.status, ...((await response.json()) as Omit<TrpcAnswer, "status">) };
}

/** Opens the WebSocket with a short token, as a browser would. */
function openSocket(): Promise<WebSocket> {
  socket ??= (async () => {
    const { token } = await asAdmin.auth.createShortToken.mutate();
    const ws = new WebSocket(`${app.wsUrl}/trpc?connectionParams=1`);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.send(JSON.stringify({ method: "connectionParams", data: { token } }));
    return ws;
  })();
  return socket;
}

/** How long a started subscription gets to fail, before the answer counts as accepted. */
const FAILURE_GRACE_MS = 500;

/** Subscribes over the raw tRPC WebSocket protocol; the answer's status is the error's HTTP status. */
async function subscribe(path: string, input: unknown): Promise<TrpcAnswer> {
  const ws = await openSocket();
  const id = ++lastRequestId;
  const error = await new Promise<TrpcAnswer["error"] | undefined>((resolve) => {
    let grace: NodeJS.Timeout | undefined;
    const onMessage = (raw: WebSocket.RawData) => {
      const message = JSON.parse(String(raw)) as { id?: number; error?: TrpcAnswer["error"] };
      if (message.id !== id) return;
      if (message.error) settle(message.error);
      else grace ??= setTimeout(() => settle(undefined), FAILURE_GRACE_MS);
    };
    const settle = (answer: TrpcAnswer["error"] | undefined) => {
      clearTimeout(grace);
      ws.off("message", onMessage);
      resolve(answer);
    };
    ws.on("message", onMessage);
    ws.send(JSON.stringify({ id, method: "subscription", params: { path, input } }));
  });
  if (!error) ws.send(JSON.stringify({ id, method: "subscription.stop" }));
  return { status: error?.data?.httpStatus ?? 200, error };
}

/** The parts of an answer a test asserts on, so a wrong answer shows as one readable diff. */
const summary = ({ status, error }: TrpcAnswer) => ({
  status,
  code: error?.data?.code,
  appCode: error?.data?.appCode,
  issuePaths: error?.data?.zodIssues?.map((issue) => issue.path) ?? null,
});

describe("malformed input", () => {
  it("has a row for every procedure of the app router, and none for a procedure it lacks", () => {
    expect(Object.keys(badInputs).sort()).toEqual([...procedurePaths].sort());
  });

  describe.each(procedurePaths)("%s", (path) => {
    const rows = badInputs[path];
    if (rows === undefined) return;
    if (rows === NO_INPUT) {
      it("takes no input, so no input can be malformed", () => {
        expect(procedures[path]?._def.inputs).toEqual([]);
      });
      return;
    }
    for (const row of rows) {
      it(`refuses ${row.what} with BAD_REQUEST and a zod issue at [${row.at.join(", ")}]`, async () => {
        expect(summary(await send(path, row.input))).toEqual({
          status: 400,
          code: "BAD_REQUEST",
          appCode: "VALIDATION_FAILED",
          issuePaths: expect.arrayContaining([row.at]),
        });
      });
    }
  });
});

/** Every row of the tables, by table name: a failed create must leave them exactly as they were. */
async function contentsOf(tables: PgTable[]) {
  const db = app.db.handle.db;
  const entries = await Promise.all(
    tables.map(async (table) => {
      const rows = await db
        .select()
        .from(table)
        .orderBy(asc((table as unknown as { id: Parameters<typeof asc>[0] }).id));
      return [getTableName(table), rows] as const;
    }),
  );
  return Object.fromEntries(entries);
}

const rowCounts = (contents: Record<string, unknown[]>) =>
  Object.fromEntries(Object.entries(contents).map(([table, rows]) => [table, rows.length]));

interface FailedCreate {
  what: string;
  input: unknown;
  /** The answer the failure must carry. */
  answer?: { code: string; appCode: string };
}

const refused = { code: "BAD_REQUEST", appCode: "VALIDATION_FAILED" };
const notFound = { code: "NOT_FOUND", appCode: "NOT_FOUND" };
const UNKNOWN_ID = 999_999;

/** The create-like mutations, the tables each one writes, and ways to make each one fail. */
const failedCreates: { path: string; tables: PgTable[]; attempts: FailedCreate[] }[] = [
  {
    path: "provider.create",
    tables: [providers, auditLog],
    attempts: [
      { what: "a malformed name", input: { name: "Bad Name", source: "docker" }, answer: refused },
      {
        what: "a name already taken",
        input: seededProvider,
        answer: { code: "CONFLICT", appCode: "ALREADY_EXISTS" },
      },
      {
        what: "an option both plain and secret",
        input: {
          name: "both-ways",
          source: "aws",
          options: { AWS_REGION: "eu-central-1" },
          secretOptions: { AWS_REGION: "eu-central-1" },
        },
        answer: refused,
      },
      { what: "a title the database refuses", input: { name: "nul-title", source: "aws", title: NUL } },
    ],
  },
  ...(["repository.create", "repository.propose"] as const).map((path) => ({
    path,
    tables: [repositories, auditLog],
    attempts: [
      { what: "a malformed git URL", input: { title: "x", url: "github.com/acme/app" }, answer: refused },
      {
        what: "an unknown machine config",
        input: { ...validRepository, machineConfigId: UNKNOWN_ID },
        answer: notFound,
      },
      { what: "a title the database refuses", input: { ...validRepository, title: NUL } },
    ],
  })),
  {
    path: "gitToken.create",
    tables: [gitAccessTokens, auditLog],
    attempts: [
      { what: "a token with whitespace", input: { title: "t", token: "a b" }, answer: refused },
      // It fails after the seeded default was cleared: the rollback must make it the default again.
      {
        what: "a new default whose title the database refuses",
        input: { title: NUL, token: "ghp_new", host: "github.com", isDefault: true },
      },
    ],
  },
  {
    path: "workspace.create",
    tables: [workspaces, workspaceOperations, workspaceEvents, auditLog],
    attempts: [
      { what: "an unknown ide", input: { ...validWorkspace, ide: "emacs" }, answer: refused },
      {
        what: "an unknown repository",
        input: { ...validWorkspace, repositoryId: UNKNOWN_ID },
        answer: notFound,
      },
      { what: "an unknown provider", input: { ...validWorkspace, providerId: UNKNOWN_ID }, answer: notFound },
      {
        what: "an unknown machine config",
        input: { ...validWorkspace, machineConfigId: UNKNOWN_ID },
        answer: notFound,
      },
      {
        what: "an unknown git access token",
        input: { ...validWorkspace, gitAccessTokenId: UNKNOWN_ID },
        answer: notFound,
      },
      { what: "a title the database refuses", input: { ...validWorkspace, title: NUL } },
      { what: "tags the database refuses", input: { ...validWorkspace, tags: [NUL] } },
    ],
  },
];

describe("a failed create", () => {
  it("covers every create-like mutation of the app router", () => {
    const creates = procedurePaths.filter((path) => /\.(create|propose)$/.test(path));
    expect(failedCreates.map(({ path }) => path).sort()).toEqual(creates.sort());
  });

  describe.each(failedCreates)("$path", ({ path, tables, attempts }) => {
    it.each(attempts)("with $what leaves every row as it was", async ({ input, answer }) => {
      const before = await contentsOf(tables);
      const { status, error } = await send(path, input);
      const after = await contentsOf(tables);

      expect(status, `${path} should have failed`).toBeGreaterThanOrEqual(400);
      if (answer) expect({ code: error?.data?.code, appCode: error?.data?.appCode }).toEqual(answer);
      expect(rowCounts(after)).toEqual(rowCounts(before));
      expect(after).toEqual(before);
    });
  });
});
