import { randomBase62, sha256Hex } from '@switchyard/core';

// DESIGN.md: `sk-sy-` + at least 32 random base62 characters; we use 40 (~238 bits).
export const API_KEY_PREFIX = 'sk-sy-';
const RANDOM_LENGTH = 40;
const FORMAT = /^sk-sy-[0-9A-Za-z]{32,128}$/;

export function generateApiKey(): { key: string; hash: string; prefix: string } {
  const key = API_KEY_PREFIX + randomBase62(RANDOM_LENGTH);
  return { key, hash: sha256Hex(key), prefix: displayPrefix(key) };
}

/** What the console shows to tell keys apart: `sk-sy-AbCd1234` (never enough to use). */
export function displayPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 8);
}

export function looksLikeApiKey(text: string): boolean {
  return FORMAT.test(text);
}
