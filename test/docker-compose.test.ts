import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DCLinter } from "dclint";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runCli } from "../cli/src/main.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const composePath = join(root, "docker-compose.yml");
const composeText = readFileSync(composePath, "utf8");

/** What `.env` would hold; URL-safe values, as the README asks for the passwords. */
const secrets = {
  POSTGRES_PASSWORD: "pg-secret",
  RABBITMQ_PASSWORD: "mq-secret",
  SHORT_TOKEN_SECRET: "short-secret",
  ENCRYPTION_KEYS: "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
};

/** Compose's variable interpolation: `${NAME}`, `${NAME:-default}`, `${NAME:?error}` (empty counts as unset). */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$\{(\w+)(?::([-?])([^}]*))?\}/g,
    (_, name: string, operator?: string, argument = "") => {
      const value = env[name];
      if (value) return value;
      if (operator === "?") throw new Error(`${name}: ${argument}`);
      return operator === "-" ? argument : "";
    },
  );
}

interface Service {
  image?: string;
  build?: { context: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  ports?: string[];
  volumes?: string[];
}

const compose = parse(interpolate(composeText, secrets), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const { services } = compose;
const appServices = ["migrate", "api", "worker"] as const;

/** What the tests read of a dclint result (its published types lose LintResult under NodeNext). */
interface LintMessage {
  rule: string;
  message: string;
}

function lint(path: string): LintMessage[] {
  const linter = new DCLinter({
    quiet: false,
    debug: false,
    exclude: [],
    // dclint turns on any rule not named here. Off: ordering rules (this file reads in start-up
    // order), image beside build (the tag the build produces), ports on every interface (the API's).
    rules: {
      "no-build-and-image": 0,
      "no-duplicate-container-names": 2,
      "no-duplicate-exported-ports": 2,
      "no-quotes-in-volumes": 2,
      "no-unbound-port-interfaces": 0,
      "no-version-field": 2,
      "require-project-name-field": 2,
      "require-quotes-in-ports": [2, { quoteType: "double" }],
      "service-container-name-regex": 2,
      "service-dependencies-alphabetical-order": 0,
      "service-image-require-explicit-tag": 2,
      "service-keys-order": 0,
      "service-ports-alphabetical-order": 0,
      "services-alphabetical-order": 0,
      "top-level-properties-order": 0,
    },
  });
  const results: { messages: LintMessage[] }[] = linter.lintFiles([path], false);
  return results.flatMap((result) => result.messages);
}

describe("docker-compose.yml", () => {
  it("is a valid Compose file by the compose-spec schema, without common mistakes", () => {
    expect(lint(composePath)).toEqual([]);
  });

  it("is held to the schema: a misspelt depends_on condition is refused", () => {
    const folder = mkdtempSync(join(tmpdir(), "cc-compose-"));
    try {
      const broken = join(folder, "docker-compose.yml");
      writeFileSync(broken, composeText.replace("service_completed_successfully", "service_completed"));
      expect(lint(broken).map((message) => message.rule)).toContain("invalid-schema");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it.runIf(spawnSync("docker", ["compose", "version"]).status === 0)(
    "is accepted by `docker compose config`",
    () => {
      const env = { ...process.env, ...secrets };
      expect(() =>
        execFileSync("docker", ["compose", "-f", composePath, "config", "-q"], { env }),
      ).not.toThrow();
    },
  );

  it("refuses to start without the passwords and secrets", () => {
    for (const name of Object.keys(secrets)) {
      const { [name as keyof typeof secrets]: _, ...without } = secrets;
      expect(() => interpolate(composeText, without), name).toThrow(`${name}: set ${name}`);
    }
  });

  it("runs Postgres 16, RabbitMQ 3 with its management UI, and the service's own image", () => {
    expect(services.postgres?.image).toBe("postgres:16");
    expect(services.rabbitmq?.image).toBe("rabbitmq:3-management");
    expect(services.rabbitmq?.ports).toEqual(["127.0.0.1:5672:5672", "127.0.0.1:15672:15672"]);
    for (const name of appServices) {
      expect(services[name]?.build?.context, name).toBe(".");
      expect(services[name]?.image, name).toBe(services.api?.image);
    }
  });

  it("runs only commands the CLI has: a one-shot migrate:up, then serve and worker", async () => {
    let help = "";
    await runCli(["help"], { env: {}, stdout: (text) => (help += text), stderr: () => {} });
    const commands = help.split("\n").flatMap((line) => /^ {2}(\S+)/.exec(line)?.[1] ?? []);
    expect(services.migrate?.command).toEqual(["migrate:up"]);
    expect(services.api?.command).toEqual(["serve"]);
    expect(services.worker?.command).toEqual(["worker"]);
    for (const name of appServices) expect(commands).toContain(services[name]?.command?.[0]);
    expect(services.migrate).toMatchObject({ restart: "no" });
  });

  it("starts each service once what it needs is healthy, and api and worker after the migration", () => {
    expect(services.migrate?.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
    for (const name of ["api", "worker"]) {
      expect(services[name]?.depends_on, name).toEqual({
        migrate: { condition: "service_completed_successfully" },
        rabbitmq: { condition: "service_healthy" },
      });
    }
  });

  it("checks health with pg_isready, rabbitmq-diagnostics ping and the image's /healthz probe for api", () => {
    expect(services.postgres?.healthcheck?.test?.slice(0, 2)).toEqual(["CMD", "pg_isready"]);
    expect(services.rabbitmq?.healthcheck?.test).toEqual(["CMD", "rabbitmq-diagnostics", "-q", "ping"]);
    // api keeps the image's HEALTHCHECK; the one-shot and the worker listen on no port.
    expect(services.api?.healthcheck).toBeUndefined();
    expect(services.migrate?.healthcheck).toEqual({ disable: true });
    expect(services.worker?.healthcheck).toEqual({ disable: true });
  });

  it("wires api and worker to the Postgres and RabbitMQ it starts, in production mode, with the secrets", () => {
    const postgres = services.postgres?.environment ?? {};
    const rabbitmq = services.rabbitmq?.environment ?? {};
    for (const name of appServices) {
      const env = services[name]?.environment ?? {};
      expect(env, name).toMatchObject({
        NODE_ENV: "production",
        DATA_DIR: "/data",
        SHORT_TOKEN_SECRET: secrets.SHORT_TOKEN_SECRET,
        ENCRYPTION_KEYS: secrets.ENCRYPTION_KEYS,
      });
      const database = new URL(env.DATABASE_URL ?? "");
      expect(database.protocol).toBe("postgres:");
      expect([database.hostname, database.port]).toEqual(["postgres", "5432"]);
      expect([database.username, database.password]).toEqual([
        postgres.POSTGRES_USER,
        secrets.POSTGRES_PASSWORD,
      ]);
      expect(database.pathname).toBe(`/${postgres.POSTGRES_DB}`);
      const broker = new URL(env.AMQP_URL ?? "");
      expect(broker.protocol).toBe("amqp:");
      expect([broker.hostname, broker.port]).toEqual(["rabbitmq", "5672"]);
      expect([broker.username, broker.password]).toEqual([
        rabbitmq.RABBITMQ_DEFAULT_USER,
        secrets.RABBITMQ_PASSWORD,
      ]);
    }
    expect(postgres.POSTGRES_PASSWORD).toBe(secrets.POSTGRES_PASSWORD);
    expect(rabbitmq.RABBITMQ_DEFAULT_PASS).toBe(secrets.RABBITMQ_PASSWORD);
  });

  it("publishes the API on the port it listens on", () => {
    const port = services.api?.environment?.PORT;
    expect(services.api?.ports).toEqual([`${port}:${port}`]);
  });

  it("keeps Postgres, RabbitMQ and DevPod state in named volumes", () => {
    expect(services.postgres?.volumes).toEqual(["postgres-data:/var/lib/postgresql/data"]);
    expect(services.rabbitmq?.volumes).toEqual(["rabbitmq-data:/var/lib/rabbitmq"]);
    expect(services.worker?.volumes).toEqual([`devpod-data:${services.worker?.environment?.DATA_DIR}`]);
    expect(Object.keys(compose.volumes).sort()).toEqual(["devpod-data", "postgres-data", "rabbitmq-data"]);
  });
});

describe("docker-compose.docker-provider.yml (opt-in: DevPod's docker provider)", () => {
  const overridePath = join(root, "docker-compose.docker-provider.yml");
  const overrideText = readFileSync(overridePath, "utf8");
  const hostDir = "/srv/cluster-code/devpod";
  const settings = {
    ...secrets,
    DEVPOD_URL: "https://example.invalid/devpod-linux-amd64",
    DEVPOD_SHA256: "a".repeat(64),
    DOCKER_CLI_URL: "https://example.invalid/docker-27.5.1.tgz",
    DOCKER_CLI_SHA256: "b".repeat(64),
    DOCKER_GID: "988",
    DEVPOD_HOST_DIR: hostDir,
  };
  const override = parse(interpolate(overrideText, settings)) as {
    services: Record<string, Service & object>;
  };
  const worker = override.services.worker as Service & {
    group_add?: string[];
    build?: { args?: Record<string, string> };
  };

  it("is a valid Compose file by the compose-spec schema, without common mistakes", () => {
    expect(lint(overridePath)).toEqual([]);
  });

  it.runIf(spawnSync("docker", ["compose", "version"]).status === 0)(
    "is accepted by `docker compose config` on top of docker-compose.yml",
    () => {
      const env = { ...process.env, ...settings };
      expect(() =>
        execFileSync("docker", ["compose", "-f", composePath, "-f", overridePath, "config", "-q"], { env }),
      ).not.toThrow();
    },
  );

  it("changes the worker only, and refuses to start without what it needs", () => {
    expect(Object.keys(override.services)).toEqual(["worker"]);
    for (const name of [
      "DEVPOD_URL",
      "DEVPOD_SHA256",
      "DOCKER_CLI_URL",
      "DOCKER_CLI_SHA256",
      "DOCKER_GID",
      "DEVPOD_HOST_DIR",
    ]) {
      const { [name as keyof typeof settings]: _, ...without } = settings;
      expect(() => interpolate(overrideText, without), name).toThrow(`${name}: set ${name}`);
    }
  });

  it("gives the worker the engine's socket and its group, and DevPod in the image with the docker CLI", () => {
    expect(worker.volumes).toContain("/var/run/docker.sock:/var/run/docker.sock");
    expect(worker.group_add).toEqual([settings.DOCKER_GID]);
    expect(worker.build?.args).toEqual({
      DEVPOD_URL: settings.DEVPOD_URL,
      DEVPOD_SHA256: settings.DEVPOD_SHA256,
      DOCKER_CLI_URL: settings.DOCKER_CLI_URL,
      DOCKER_CLI_SHA256: settings.DOCKER_CLI_SHA256,
    });
  });

  it("keeps DevPod's state at the same path on the host and in the worker, so the engine finds the sources", () => {
    expect(worker.environment?.DEVPOD_HOME_ROOT).toBe(hostDir);
    expect(worker.volumes).toContain(`${hostDir}:${hostDir}`);
  });

  it("leaves the default file safe: no service of docker-compose.yml mounts the socket", () => {
    expect(composeText).not.toContain("docker.sock");
    for (const [name, service] of Object.entries(services)) {
      expect(service.volumes ?? [], name).not.toEqual(
        expect.arrayContaining([expect.stringContaining("docker.sock")]),
      );
    }
  });

  it("builds one image for every service: the docker CLI build arguments are in docker-compose.yml too", () => {
    for (const name of appServices) {
      expect(Object.keys((services[name]?.build as { args?: object })?.args ?? {}), name).toEqual(
        Object.keys(worker.build?.args ?? {}),
      );
    }
  });
});
