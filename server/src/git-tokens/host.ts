/**
 * The host a git token belongs to, and the host a repository URL names, in one comparable form:
 * `host` or `host:port`, lower case, without https's default port 443. A token is sent only to a
 * repository whose host is exactly its own.
 */

const LABEL = "[a-z0-9](?:[a-z0-9-]*[a-z0-9])?";
const HOST_PORT = new RegExp(String.raw`^(?<host>${LABEL}(?:\.${LABEL})*)(?::(?<port>\d{1,5}))?$`);
const HTTPS_URL = /^https:\/\/(?<authority>[^/?#]+)\//i;

/** `host[:port]` in the form tokens are stored in, or why `text` is not one. */
export function parseGitHost(text: string): { host: string } | { problem: string } {
  const match = HOST_PORT.exec(text.trim().toLowerCase());
  if (!match?.groups?.host) {
    return {
      problem:
        "Expected a git host name with an optional port (e.g. github.com or git.example.com:8443), without a scheme or path",
    };
  }
  const { host, port } = match.groups;
  if (host.length > 253) return { problem: "The host name is longer than 253 characters" };
  if (port === undefined) return { host };
  const number = Number(port);
  if (number < 1 || number > 65_535) return { problem: "The port is out of range" };
  return { host: number === 443 ? host : `${host}:${number}` };
}

/**
 * The host a repository URL sends credentials to, in the tokens' form; null for URLs that never
 * carry a token (ssh ones authenticate with keys).
 */
export function repositoryHostOf(url: string): string | null {
  const authority = HTTPS_URL.exec(url)?.groups?.authority;
  if (!authority || authority.includes("@")) return null;
  const parsed = parseGitHost(authority);
  return "host" in parsed ? parsed.host : null;
}

/** Why token `id` (bound to `tokenHost`) is not sent to a repository on `repositoryHost`. */
export const tokenHostMismatch = (id: number, tokenHost: string | null, repositoryHost: string) =>
  tokenHost === null
    ? `Git access token ${id} has no host yet; set its host to ${repositoryHost} to use it for this repository`
    : `Git access token ${id} is for ${tokenHost}, but the repository is on ${repositoryHost}: it is not sent there`;
