// The git server the fake "clones" from. What the recordings took from outside DevPod (the test
// repositories' contents, a slow server, a dead port, a failing TLS check) is described by
// FAKE_DEVPOD_REPOS: a JSON file (or inline JSON text) of the form
//
//   { "repositories": { "<path on the server>": {
//         "files": { ".devcontainer/devcontainer.json": {…} | "raw text" },
//         "branches": { "<name>": { "files": {…} } },
//         "commits": { "<sha or *>": { "subject": "<commit subject>", "files": {…} } },
//         "cloneMs": <how long the clone takes>, "hang": <never finishes> } },
//     "deadHosts": ["127.0.0.1:1"], "cloneMs": <default> }
//
// A repository is found by the path of its URL (`app.git`, `slow/app.git`), whatever the host.
// Without FAKE_DEVPOD_REPOS every repository exists and holds a devcontainer.json with the image
// `local/devbase:1`, so tests that only need "a workspace" get one. A clone fails as git does
// with exit status 128 for an unknown path, a dead host, a missing branch, or TLS verification
// when GIT_SSL_CAINFO is /dev/null (as in the recording).

import { readFileSync } from "node:fs";

export const DEFAULT_FILES = { ".devcontainer/devcontainer.json": { image: "local/devbase:1" } };

export function loadRepositories(env) {
  const text = env.FAKE_DEVPOD_REPOS;
  if (!text) return null;
  try {
    return JSON.parse(text.trim().startsWith("{") ? text : readFileSync(text, "utf8"));
  } catch (error) {
    throw new Error(`FAKE_DEVPOD_REPOS is not valid JSON: ${error.message}`);
  }
}

/**
 * What a clone of `source` gets: { ok: true, files, subject } or { ok: false, tls }, plus the
 * time it takes (`cloneMs`, `hang`).
 */
export function resolveClone(spec, source, env) {
  const url = parseUrl(source.gitRepository);
  const timing = { cloneMs: spec?.cloneMs ?? 0, hang: false };
  if (!spec) return { ok: true, files: DEFAULT_FILES, subject: "initial", ...timing };
  if (!url) return { ok: false, tls: false, ...timing };
  if ((spec.deadHosts ?? []).includes(url.host)) return { ok: false, tls: false, ...timing };
  const repository = spec.repositories?.[url.path];
  if (!repository) return { ok: false, tls: false, ...timing };
  const withTiming = { cloneMs: repository.cloneMs ?? timing.cloneMs, hang: Boolean(repository.hang) };
  if (url.scheme === "https" && env.GIT_SSL_CAINFO === "/dev/null")
    return { ok: false, tls: true, ...withTiming };
  let files = repository.files ?? {};
  let subject = repository.subject ?? "initial";
  if (source.gitBranch) {
    const branch = repository.branches?.[source.gitBranch];
    if (!branch) return { ok: false, tls: false, ...withTiming };
    files = { ...files, ...branch.files };
  }
  if (source.gitCommit) {
    const commit = repository.commits?.[source.gitCommit] ?? repository.commits?.["*"];
    if (!commit) return { ok: false, tls: false, ...withTiming };
    files = { ...files, ...commit.files };
    subject = commit.subject ?? subject;
  }
  return { ok: true, files, subject, ...withTiming };
}

function parseUrl(repository) {
  const match = /^([a-z]+):\/\/(?:[^@/]*@)?([^/]+)\/(.*)$/i.exec(repository ?? "");
  return match ? { scheme: match[1].toLowerCase(), host: match[2], path: match[3] } : null;
}
