import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const sdkDir = fileURLToPath(new URL("../..", import.meta.url));
const repoRoot = join(sdkDir, "..");
/** Frontend files that use the SDK, copied into the consumer project. */
export const consumerFixtures = join(sdkDir, "test/consumer");

/** The fixtures, and the README's complete example (its first `ts` block) as `readme-example.ts`. */
function consumerFiles(): Record<string, string> {
  const files = Object.fromEntries(
    readdirSync(consumerFixtures).map((file) => [file, readFileSync(join(consumerFixtures, file), "utf8")]),
  );
  const example = /^```ts\n([\s\S]*?)^```$/m.exec(readFileSync(join(sdkDir, "README.md"), "utf8"))?.[1];
  if (!example) throw new Error("The README has no ts example");
  return { ...files, "readme-example.ts": example };
}

const readJson = <T>(path: string) => JSON.parse(readFileSync(path, "utf8")) as T;

type Manifest = { name: string; dependencies?: Record<string, string> };
const sdkManifest = readJson<Manifest>(join(sdkDir, "package.json"));
/** The tRPC version the server runs, which the SDK's peers must match exactly. */
export const serverTrpcVersion = readJson<Manifest>(join(repoRoot, "server/package.json")).dependencies?.[
  "@trpc/server"
] as string;

export interface Diagnostic {
  file: string;
  line: number;
  code: string;
  message: string;
}

export interface PackedSdk {
  /** A fresh TypeScript project in the system's temp folder, outside the repository. */
  dir: string;
  /** The installed package's folder inside that project. */
  packageDir: string;
  /** Every file the package installed, relative to `packageDir`. */
  files: string[];
  /** The SDK as that project imports it, with that project's own copy of tRPC. */
  load(): Promise<typeof import("../index.js")>;
  /** Runs that project's TypeScript over the consumer files under one `moduleResolution`. */
  typecheck(moduleResolution: "bundler" | "node16"): Promise<Diagnostic[]>;
  remove(): void;
}

/**
 * What a frontend developer gets: the SDK built and packed with `npm pack`, then installed from
 * the tarball with its peers and TypeScript from the registry into a new project that cannot see
 * this repository.
 */
export async function installPackedSdk(): Promise<PackedSdk> {
  const dir = mkdtempSync(join(tmpdir(), "cc-sdk-consumer-"));
  await run("npm", ["pack", "--pack-destination", dir, "--workspace", sdkManifest.name], repoRoot);
  const tarball = readdirSync(dir).find((file) => file.endsWith(".tgz")) as string;
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "sdk-consumer", private: true, type: "module" }),
  );
  await run(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      `./${tarball}`,
      `@trpc/client@${serverTrpcVersion}`,
      `@trpc/server@${serverTrpcVersion}`,
      "typescript@5.9",
    ],
    dir,
  );
  for (const [file, text] of Object.entries(consumerFiles())) writeFileSync(join(dir, file), text);

  const packageDir = join(dir, "node_modules", sdkManifest.name);
  return {
    dir,
    packageDir,
    files: readdirSync(packageDir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(packageDir, join(entry.parentPath, entry.name)))
      .sort(),
    load: () => import(pathToFileURL(join(packageDir, "dist/index.js")).href),
    typecheck: (moduleResolution) => typecheckConsumer(dir, moduleResolution),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function typecheckConsumer(dir: string, moduleResolution: "bundler" | "node16"): Promise<Diagnostic[]> {
  const config = `tsconfig.${moduleResolution}.json`;
  writeFileSync(
    join(dir, config),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: "ES2022",
        // A browser project; tRPC's own declarations need the disposable types.
        lib: ["ES2022", "DOM", "ESNext.Disposable"],
        types: [],
        module: moduleResolution === "bundler" ? "ESNext" : "Node16",
        moduleResolution,
        // Check the SDK's declarations too, not only the files that use them.
        skipLibCheck: false,
      },
      files: Object.keys(consumerFiles()),
    }),
  );
  const { stdout } = await run(join(dir, "node_modules/.bin/tsc"), ["-p", config], dir, {
    allowFailure: true,
  });
  return [...stdout.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+): (.*)$/gm)].map(
    ([, file, line, code, message]) => ({
      file: file as string,
      line: Number(line),
      code: code as string,
      message: message as string,
    }),
  );
}

function run(
  command: string,
  args: string[],
  cwd: string,
  { allowFailure = false } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd, env: withoutNpmScriptEnv(), encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && !allowFailure) {
          reject(new Error(`${command} ${args.join(" ")} failed:\n${stdout}\n${stderr}`, { cause: error }));
        } else resolve({ stdout, stderr });
      },
    );
  });
}

/**
 * The environment without what `npm test` adds for its script (`npm_config_local_prefix` and the
 * like), so the npm run here works on the project it is run in.
 */
function withoutNpmScriptEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("npm_")));
}
