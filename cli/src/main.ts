import { DatabaseLockedError } from "@cluster-code/db";
import { AppError, ConfigError } from "@cluster-code/server";
import { importMachineConfigsCommand } from "./commands/import-machine-configs.js";
import { migrateStatusCommand, migrateUpCommand } from "./commands/migrate.js";
import { providerAddCommand } from "./commands/provider-add.js";
import { providerListCommand } from "./commands/provider-list.js";
import { secretsRotateCommand } from "./commands/secrets-rotate.js";
import { serveCommand } from "./commands/serve.js";
import { syncUsersCommand } from "./commands/sync-users.js";
import { tokenMintCommand } from "./commands/token-mint.js";
import { type CliIo, UsageError } from "./io.js";

type Command = (args: string[], io: CliIo) => Promise<number>;

const commands: Record<string, { run: Command; help: string }> = {
  serve: {
    run: (args, io) => serveCommand(args, io),
    help: "serve [--with-worker]           run the HTTP/WebSocket API",
  },
  worker: {
    run: (args, io) => serveCommand(args, io, "worker"),
    help: "worker                          run lifecycle operations (DevPod)",
  },
  "migrate:up": {
    run: (_args, io) => migrateUpCommand(io),
    help: "migrate:up                      apply pending migrations",
  },
  "migrate:status": {
    run: (_args, io) => migrateStatusCommand(io),
    help: "migrate:status                  list migrations and whether each is applied",
  },
  "import-machine-configs": {
    run: importMachineConfigsCommand,
    help: "import-machine-configs [--file F] [--dry-run]   upsert machine sizes (bundled set by default)",
  },
  "provider:add": {
    run: providerAddCommand,
    help: "provider:add --name N --source S [--title T] [-o K=V]... [--secret K=V]...   add a DevPod provider",
  },
  "provider:list": {
    run: providerListCommand,
    help: "provider:list                   list providers (secrets masked)",
  },
  "secrets:rotate": {
    run: secretsRotateCommand,
    help: "secrets:rotate                  re-encrypt every stored secret under the first ENCRYPTION_KEYS key",
  },
  "sync-users": {
    run: syncUsersCommand,
    help: "sync-users [--file F]           upsert users from the identity service (or a file)",
  },
  "token:mint": {
    run: tokenMintCommand,
    help: "token:mint --user ID [--org N] [--admin] [--ttl 1h]   sign a development main token",
  },
};

const usage = () =>
  `Usage: cluster-code <command> [options]\n\n${Object.values(commands)
    .map((c) => `  ${c.help}`)
    .join("\n")}\n`;

/** Runs one CLI command and returns the exit code; errors a user can fix are printed without a stack. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "help" || name === "--help") {
    io.stdout(usage());
    return name ? 0 : 1;
  }
  const command = commands[name];
  if (!command) {
    io.stderr(`Unknown command "${name}"\n\n${usage()}`);
    return 1;
  }
  try {
    return await command.run(args, { ...io, command: io.command ?? name });
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof ConfigError ||
      error instanceof AppError ||
      error instanceof DatabaseLockedError ||
      isArgError(error)
    ) {
      io.stderr(`error: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}

const isArgError = (error: unknown) =>
  error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS");
