// Workspace sources and ids, ported from devpod's pkg/git (NormalizeRepository) and
// pkg/provider (ParseWorkspaceSource) and pkg/workspace (ToID).

import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { CliError } from "./errors.mjs";

// devpod's repoBaseRegEx; Go's RE2 picks the same submatches as JavaScript's backtracking here.
const REPO_BASE = String.raw`((?:(?:https?|git|ssh|file):\/\/)?\/?(?:[^@\/\n]+@)?(?:[^:\/\n]+)(?:[:\/][^\/\n]+)+(?:\.git)?)`;
const BRANCH = new RegExp(String.raw`^${REPO_BASE}@([a-zA-Z0-9\./\-\_]+)$`);
const COMMIT = new RegExp(`^${REPO_BASE}@sha256:([a-zA-Z0-9]+)$`);
const PULL_REQUEST = new RegExp(String.raw`^${REPO_BASE}@(pull\/([0-9]+)\/head)$`);
const SUB_PATH = new RegExp(String.raw`^${REPO_BASE}@subpath:([a-zA-Z0-9\./\-\_]+)$`);

const KNOWN_SCHEMES = ["ssh://", "git@", "http://", "https://", "file://"];

const NAME_INVALID = /[^a-z0-9-]+/;

/** git.NormalizeRepository: splits `@branch`, `@sha256:<commit>`, `@pull/N/head`, `@subpath:<dir>`. */
export function normalizeRepository(input) {
  let text = KNOWN_SCHEMES.some((scheme) => input.startsWith(scheme)) ? input : `https://${input}`;
  const pullRequest = PULL_REQUEST.exec(text);
  if (pullRequest) return { gitRepository: pullRequest[1], gitPRReference: pullRequest[2] };
  const source = {};
  const subPath = SUB_PATH.exec(text);
  if (subPath) {
    text = subPath[1];
    source.gitSubDir = subPath[2].replace(/\/$/, "");
  }
  const branch = BRANCH.exec(text);
  if (branch) {
    text = branch[1];
    source.gitBranch = branch[2];
  }
  const commit = COMMIT.exec(text);
  if (commit) {
    text = commit[1];
    source.gitCommit = commit[2];
  }
  return { gitRepository: text, ...source };
}

/** provider.ParseWorkspaceSource for `--source`; null when the prefix is unknown. */
export function parseSourceFlag(text) {
  if (text.startsWith("git:")) return normalizeRepository(text.slice(4));
  if (text.startsWith("local:")) return { localFolder: text.slice(6) };
  if (text.startsWith("image:")) return { image: text.slice(6) };
  if (text.startsWith("container:")) return { container: text.slice(10) };
  return null;
}

/**
 * The source devpod infers from the positional argument when `--source` is absent. devpod asks
 * git (`ls-remote`) and the registry; the fake decides offline: an existing directory is a local
 * folder, anything shaped like a repository path is git, a bare word is an image.
 */
export function inferSource(argument) {
  if (existsSync(argument) && statSync(argument).isDirectory()) return { localFolder: resolve(argument) };
  if (argument.includes("/") || argument.endsWith(".git")) return normalizeRepository(argument);
  return { image: argument };
}

/** workspace.ToID: the id devpod derives from a path or repository (the last path element). */
export function toId(text) {
  let id = text.toLowerCase().replaceAll("\\", "/").replace(/\/+$/, "");
  const slash = id.lastIndexOf("/");
  if (slash !== -1) {
    id = id.slice(slash + 1).replace(/\.git$/, "");
    const [name, reference, ...more] = id.split("@");
    if (reference !== undefined && more.length === 0 && !/[^a-zA-Z0-9.-]/.test(reference)) id = name;
  }
  id = id.replace(/[^\w-]/g, "-").replace(/[^0-9a-z-]+/g, "");
  return id.slice(0, 48).replace(/^-+|-+$/g, "");
}

export function validateWorkspaceId(id) {
  if (NAME_INVALID.test(id))
    throw new CliError("workspace name can only include smaller case letters, numbers or dashes");
  if (id.length > 48) throw new CliError("workspace name cannot be longer than 48 characters");
}

export function validateProviderName(name) {
  if (NAME_INVALID.test(name))
    throw new CliError("provider name can only include smaller case letters, numbers or dashes");
  if (name.length > 32) throw new CliError("provider name cannot be longer than 32 characters");
}
