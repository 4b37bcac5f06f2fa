/** The caller of a procedure, once authenticated. */
export interface Principal {
  userId: number;
  organizationId: number | null;
  roles: string[];
  isAdmin: boolean;
  /** Which kind of token proved it: main tokens on HTTP, short tokens on WebSocket. */
  via: "main-token" | "short-token";
}
