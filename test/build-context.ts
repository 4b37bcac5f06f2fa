import { posix } from "node:path";

/**
 * Whether a path (relative to the context root, `/`-separated) is sent to the Docker builder, by the
 * rules of `.dockerignore`: patterns in order, `!` re-includes, the last matching pattern wins, and a
 * pattern that matches a folder matches everything inside it.
 */
export function buildContextFilter(dockerignore: string): (path: string) => boolean {
  const rules = dockerignore
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const include = line.startsWith("!");
      const pattern = posix.normalize((include ? line.slice(1) : line).trim()).replace(/^\/+/, "");
      return { include, regex: patternRegex(pattern) };
    });
  return (path) => {
    const parts = posix.normalize(path).split("/");
    const selfAndParents = parts.map((_, index) => parts.slice(0, index + 1).join("/"));
    let included = true;
    for (const rule of rules) {
      if (selfAndParents.some((candidate) => rule.regex.test(candidate))) included = rule.include;
    }
    return included;
  };
}

/** `**` spans folders, `*` and `?` stay within one path segment. */
function patternRegex(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (pattern.startsWith("**/", i)) {
      source += "(?:.*/)?";
      i += 2;
    } else if (pattern.startsWith("**", i)) {
      source += ".*";
      i += 1;
    } else if (char === "*") {
      source += "[^/]*";
    } else if (char === "?") {
      source += "[^/]";
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`);
}
