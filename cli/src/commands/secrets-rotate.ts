import { parseArgs } from "node:util";
import { createSecretBox, loadConfig, rotateSecrets, type SecretBox } from "@cluster-code/server";
import { withDatabase } from "../database.js";
import type { CliIo } from "../io.js";

/**
 * `secrets:rotate`: re-encrypts every stored secret that is not under the first ENCRYPTION_KEYS key,
 * in one transaction. Rotate by putting the new key first (`new:...,old:...`), restarting the
 * services, running this, then dropping the old key.
 */
export async function secretsRotateCommand(args: string[], io: CliIo): Promise<number> {
  parseArgs({ args, options: {} });
  const secrets = openSecretBox(io);
  const summary = await withDatabase(io, (db) => rotateSecrets(db.db, secrets));
  io.stdout(
    `Re-encrypted ${summary.reEncrypted} secret(s) under key "${secrets.currentKeyId}"; ` +
      `${summary.current} already current\n`,
  );
  return 0;
}

/**
 * The secret box of the environment's ENCRYPTION_KEYS, read through the service's own config (in
 * development, the generated keys saved under DATA_DIR).
 */
export function openSecretBox(io: CliIo): SecretBox {
  const { config, warnings } = loadConfig(io.env);
  for (const warning of warnings) io.stderr(`warning: ${warning}\n`);
  return createSecretBox(config.encryptionKeys);
}
