import { errors } from "jose";
import { AppError } from "../errors.js";

const claimReasons: Record<string, string> = {
  nbf: "the token is not valid yet (nbf is in the future)",
  iss: "the token's issuer is not accepted",
  aud: "the token's audience is not accepted",
  exp: "the token has no expiry",
};

/** Says in plain words why a token was refused, without echoing the token. */
export function describeTokenError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  return new AppError("UNAUTHENTICATED", `Invalid token: ${reasonFor(error)}`, { cause: error });
}

function reasonFor(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    return claimReasons[error.claim] ?? `the token's "${error.claim}" claim is invalid`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature is invalid";
  if (error instanceof errors.JOSEAlgNotAllowed) return "the token's signing algorithm is not accepted";
  if (error instanceof errors.JWKSNoMatchingKey) return "no signing key matches the token";
  if (error instanceof errors.JWKSTimeout) return "the signing keys could not be fetched in time";
  return "the token is malformed";
}
