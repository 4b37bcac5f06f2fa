import { z } from "zod";

/** The paging input every list procedure takes. */
export const ZPageInput = z.object({
  page: z.number().int().min(1).default(1),
  limit: z.number().int().min(1).max(100).default(20),
  q: z.string().trim().max(200).optional(),
});
export type PageInput = z.infer<typeof ZPageInput>;

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), page: z.number(), limit: z.number(), total: z.number() });

export interface Page<T> {
  items: T[];
  page: number;
  limit: number;
  total: number;
}

export const offsetOf = (input: PageInput) => (input.page - 1) * input.limit;

/** Escapes LIKE wildcards so `q` matches literally. */
export const containsPattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
