/**
 * Which git URLs a repository may carry. DevPod and git receive them as arguments, so the rule is
 * an allow-list: https or ssh only, a plain host name, path segments that cannot start with `-`
 * (no option injection), no whitespace, and never credentials inside the URL (those belong in a
 * git access token, stored encrypted).
 */
const HOST = String.raw`[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*`;
const PORT = String.raw`(?::(?<port>\d{1,5}))?`;
const SEGMENT = String.raw`[\w.~%][\w.~%-]*`;
const PATH = `(?:/${SEGMENT})+/?`;

const gitUrlForms = [
  // https://host[:port]/owner/repo(.git)
  new RegExp(`^https://${HOST}${PORT}${PATH}$`),
  // git@host:owner/repo(.git), nested groups allowed (GitLab subgroups)
  new RegExp(`^git@${HOST}:${SEGMENT}(?:/${SEGMENT})+/?$`),
  // ssh://git@host[:port]/owner/repo(.git)
  new RegExp(`^ssh://git@${HOST}${PORT}${PATH}$`),
];

/** Why `url` is not an acceptable git URL, or undefined when it is. */
export function gitUrlProblem(url: string): string | undefined {
  if (/\s/.test(url)) return "A git URL must not contain whitespace";
  if (/^https:\/\/[^/]*@/.test(url)) return "A git URL must not embed credentials; use a git access token";
  for (const form of gitUrlForms) {
    const match = form.exec(url);
    if (!match) continue;
    const port = match.groups?.port;
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) return "The port is out of range";
    return undefined;
  }
  return "Expected an https git URL (https://host/owner/repo.git) or an ssh one (git@host:owner/repo.git, ssh://git@host[:port]/owner/repo.git)";
}
