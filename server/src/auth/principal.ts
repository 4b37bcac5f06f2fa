/** The caller of a procedure, once authenticated. */
export interface Principal {
  userId: number;
  organizationId: number | null;
  roles: string[];
  /** An administrator of `organizationId` (of nothing else; see README "Trust model"). */
  isAdmin: boolean;
  /** Which kind of token proved it: main tokens on HTTP, short tokens on WebSocket. */
  via: "main-token" | "short-token";
  /** A short token's expiry: the socket it opened is closed then, and runs nothing after it. */
  expiresAt?: Date;
}
