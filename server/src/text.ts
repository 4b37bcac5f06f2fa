import { z } from "zod";

/**
 * Text Postgres and the operating system can store: no U+0000 (text columns, jsonb and process
 * arguments refuse it) and no lone UTF-16 surrogate (jsonb refuses it).
 */
export const isStorableText = (text: string) => !text.includes("\u0000") && text.isWellFormed();

export const storableTextMessage = "must not contain NUL (U+0000) characters or lone UTF-16 surrogates";

/** A string schema that refuses what cannot be stored. */
export const ZStorableString = z.string().refine(isStorableText, storableTextMessage);
