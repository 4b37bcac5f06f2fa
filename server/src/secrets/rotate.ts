import { type Database, gitAccessTokens, providers } from "@cluster-code/db";
import { asc, eq } from "drizzle-orm";
import { AppError } from "../errors.js";
import { PROVIDER_SECRETS_CONTEXT } from "../providers/secret-options.js";
import type { SecretBox } from "./secret-box.js";

const GIT_TOKEN_CONTEXT = "git_access_tokens.token";

export interface RotationSummary {
  /** Secrets that were sealed under an older key and now are under the current one. */
  reEncrypted: number;
  /** Secrets already under the current key, left as they were. */
  current: number;
}

/**
 * Re-encrypts every stored secret (provider secret options and git access tokens, soft-deleted rows
 * included) that is not under the first ENCRYPTION_KEYS key, in one transaction; after it, the older
 * keys can be dropped. A secret that cannot be decrypted aborts the whole rotation, naming its row.
 * `updated_at` is kept: the values did not change.
 */
export async function rotateSecrets(db: Database, secrets: SecretBox): Promise<RotationSummary> {
  return db.transaction(async (tx) => {
    const summary: RotationSummary = { reEncrypted: 0, current: 0 };
    const reseal = (envelope: string, context: string, where: string): string => {
      if (!secrets.needsRotation(envelope)) {
        summary.current++;
        return envelope;
      }
      let plaintext: string;
      try {
        plaintext = secrets.decrypt(envelope, context);
      } catch (error) {
        throw new AppError("INVALID_STATE", `Cannot rotate ${where}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      summary.reEncrypted++;
      return secrets.encrypt(plaintext, context);
    };

    const providerRows = await tx
      .select({ id: providers.id, secretOptions: providers.secretOptions, updatedAt: providers.updatedAt })
      .from(providers)
      .orderBy(asc(providers.id))
      .for("update");
    for (const row of providerRows) {
      const before = summary.reEncrypted;
      const secretOptions = Object.fromEntries(
        Object.entries(row.secretOptions).map(([key, envelope]) => [
          key,
          reseal(envelope, PROVIDER_SECRETS_CONTEXT, `provider ${row.id} secret option ${key}`),
        ]),
      );
      if (summary.reEncrypted === before) continue;
      await tx
        .update(providers)
        .set({ secretOptions, updatedAt: row.updatedAt })
        .where(eq(providers.id, row.id));
    }

    const tokenRows = await tx
      .select({ id: gitAccessTokens.id, token: gitAccessTokens.token, updatedAt: gitAccessTokens.updatedAt })
      .from(gitAccessTokens)
      .orderBy(asc(gitAccessTokens.id))
      .for("update");
    for (const row of tokenRows) {
      const token = reseal(row.token, GIT_TOKEN_CONTEXT, `git access token ${row.id}`);
      if (token === row.token) continue;
      await tx
        .update(gitAccessTokens)
        .set({ token, updatedAt: row.updatedAt })
        .where(eq(gitAccessTokens.id, row.id));
    }
    return summary;
  });
}
