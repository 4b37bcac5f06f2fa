import {
  copyFileSync,
  cpSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { basename, dirname, join, posix, relative } from "node:path";

/**
 * Reads a Dockerfile the way the builder does (continuation lines joined, comments dropped), and
 * models what each stage's filesystem holds, so tests can check an image without a Docker engine.
 */

export interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  args: string;
}

export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const line of logicalLines(text)) {
    const [, word = "", rest = ""] = /^(\S+)\s*(.*)$/s.exec(line) ?? [];
    const { flags, args } = splitFlags(rest);
    const instruction = { keyword: word.toUpperCase(), flags, args };
    if (instruction.keyword === "FROM") {
      const [base = "", as, name] = args.split(/\s+/);
      stages.push({
        name: as?.toUpperCase() === "AS" && name ? name : String(stages.length),
        base,
        instructions: [],
      });
    } else {
      // Instructions before the first FROM (global ARGs) belong to no stage.
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#") || (!line && !pending)) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push(`${pending}${line}`.trim());
    pending = "";
  }
  return lines;
}

function splitFlags(rest: string): { flags: Record<string, string>; args: string } {
  const flags: Record<string, string> = {};
  let args = rest;
  for (let match = /^--([\w-]+)=(\S*)\s*/.exec(args); match; match = /^--([\w-]+)=(\S*)\s*/.exec(args)) {
    flags[match[1] as string] = match[2] as string;
    args = args.slice(match[0].length);
  }
  return { flags, args };
}

/** The JSON (exec) form of CMD, ENTRYPOINT or HEALTHCHECK CMD; shell form is refused. */
export function execForm(args: string): string[] {
  if (!args.startsWith("[")) throw new Error(`expected the exec form (a JSON array), got: ${args}`);
  return JSON.parse(args) as string[];
}

/** What the image holds at a path: a file or folder from the repository, or a folder a RUN made. */
export type ImageEntry =
  | { kind: "file"; host: string }
  | { kind: "folder made by RUN"; host: string }
  | { kind: "folder" };

export interface StageModel {
  files: Map<string, ImageEntry>;
  workdir: string;
  env: Record<string, string>;
  user: string | undefined;
}

export interface ModelSources {
  /** The build context on this machine. */
  root: string;
  inContext(path: string): boolean;
  /** What a RUN leaves in the stage, as image path → the repository folder holding the same files. */
  runProducts(command: string, workdir: string): [string, string][];
}

export function modelStage(stages: Stage[], name: string, sources: ModelSources): StageModel {
  const stage = stages.find((s) => s.name === name);
  if (!stage) throw new Error(`no stage named ${name}`);
  const parent = stages.some((s) => s.name === stage.base)
    ? modelStage(stages, stage.base, sources)
    : undefined;
  const model: StageModel = {
    files: new Map(parent?.files),
    workdir: parent?.workdir ?? "/",
    env: { ...parent?.env },
    user: parent?.user,
  };
  for (const { keyword, flags, args } of stage.instructions) {
    if (keyword === "WORKDIR") {
      model.workdir = posix.resolve(model.workdir, args);
      model.files.set(model.workdir, { kind: "folder" });
    } else if (keyword === "ENV") {
      for (const pair of args.split(/\s+/)) {
        const [key = "", ...value] = pair.split("=");
        model.env[key] = value.join("=");
      }
    } else if (keyword === "USER") {
      model.user = args;
    } else if (keyword === "RUN") {
      for (const [path, host] of sources.runProducts(args, model.workdir)) {
        model.files.set(path, { kind: "folder made by RUN", host });
      }
    } else if (keyword === "COPY") {
      const paths = args.split(/\s+/);
      const dest = paths.pop() as string;
      for (const src of paths) {
        const copied = flags.from
          ? entriesOfStage(modelStage(stages, flags.from, sources), src)
          : entriesOfContext(sources, src);
        for (const [rel, entry] of copied) model.files.set(destination(model.workdir, dest, src, rel), entry);
      }
    }
  }
  return model;
}

/** Entries under `src` of another stage, keyed by their path relative to `src`. */
function entriesOfStage(from: StageModel, src: string): [string, ImageEntry][] {
  const root = posix.resolve("/", src);
  const found = [...from.files].filter(([path]) => path === root || path.startsWith(`${root}/`));
  if (!found.length) throw new Error(`COPY --from: the stage has nothing at ${src}`);
  return found.map(([path, entry]) => [posix.relative(root, path), entry]);
}

/** Files under `src` that the build context holds, keyed by their path relative to `src`. */
function entriesOfContext(sources: ModelSources, src: string): [string, ImageEntry][] {
  const host = join(sources.root, src);
  let files: string[];
  try {
    files = statSync(host).isDirectory() ? walk(host).map((file) => relative(host, file)) : [""];
  } catch {
    throw new Error(`COPY ${src}: no such file in the repository`);
  }
  const kept = files.filter((rel) => sources.inContext(posix.join(src, rel)));
  if (!kept.length) throw new Error(`COPY ${src}: .dockerignore leaves it out of the build context`);
  return kept.map((rel) => [rel, { kind: "file", host: join(host, rel) }]);
}

function destination(workdir: string, dest: string, src: string, rel: string): string {
  const target = posix.resolve(workdir, dest);
  if (rel) return posix.join(target, rel);
  return dest.endsWith("/") && !src.endsWith("/") ? posix.join(target, posix.basename(src)) : target;
}

export function walk(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    return entry.isDirectory() ? walk(path) : [path];
  });
}

/**
 * Lays out on disk what the image holds under `imageFolder`. A node_modules made by RUN becomes links
 * to the repository's packages, keeping the workspace links relative so they point into the layout.
 */
export function materialize(model: StageModel, imageFolder: string, target: string): void {
  for (const [path, entry] of model.files) {
    if (path !== imageFolder && !path.startsWith(`${imageFolder}/`)) continue;
    const out = join(target, posix.relative(imageFolder, path));
    if (entry.kind === "folder") {
      mkdirSync(out, { recursive: true });
    } else if (entry.kind === "file") {
      mkdirSync(dirname(out), { recursive: true });
      copyFileSync(entry.host, out);
    } else if (basename(entry.host) === "node_modules") {
      linkPackages(entry.host, out);
    } else {
      cpSync(entry.host, out, { recursive: true });
    }
  }
}

function linkPackages(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const source = join(from, name);
    const isScope = name.startsWith("@") && lstatSync(source).isDirectory();
    if (isScope) linkPackages(source, join(to, name));
    else symlinkSync(lstatSync(source).isSymbolicLink() ? readlinkSync(source) : source, join(to, name));
  }
}
