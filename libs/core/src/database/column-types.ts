import { ValueTransformer } from 'typeorm';

/** bigint columns as JavaScript bigint (pg returns them as strings; money must never become a number). */
export const bigintColumn: ValueTransformer = {
  to: (v: bigint | null | undefined) => (v === null || v === undefined ? v : v.toString()),
  from: (v: string | null) => (v === null ? null : BigInt(v)),
};
