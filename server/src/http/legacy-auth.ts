import type { IncomingMessage, ServerResponse } from "node:http";
import { AppError } from "../errors.js";
import type { Services } from "../services.js";
import { sendJson } from "./json.js";

const statusOf: Partial<Record<AppError["code"], number>> = {
  UNAUTHENTICATED: 401,
  USER_INACTIVE: 403,
  UNAVAILABLE: 503,
};

/**
 * `POST /api/v1/auth`, kept for existing clients: trades a main token for a short token. The token
 * is in the reply twice because the two generations of clients read it from different places.
 */
export async function handleLegacyAuth(
  req: IncomingMessage,
  res: ServerResponse,
  services: Services,
): Promise<void> {
  try {
    const principal = await services.auth.fromAuthorizationHeader(req.headers.authorization);
    const { token } = await services.auth.issueShortToken(principal);
    sendJson(res, 200, { success: true, short_token: token, data: { token } });
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    sendJson(res, statusOf[error.code] ?? 400, {
      success: false,
      error: { code: error.code, message: error.message },
    });
  }
}
