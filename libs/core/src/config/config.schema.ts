// The one place that reads process.env: every setting is parsed and validated here at start.
import { z } from 'zod';

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

const bytes = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, 'a size such as 512kb or 20mb')
  .transform((v) => {
    const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(v)!;
    const mult = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
    return Math.floor(Number(m[1]) * mult);
  });

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    DEMO: bool.default(false),
    PORT: int(4000, 0, 65535),
    APPS: z
      .string()
      .default('gateway,admin,worker')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.enum(['gateway', 'admin', 'worker'])).min(1, 'name at least one of gateway, admin, worker')),
    HOST: z.string().default('0.0.0.0'),
    PUBLIC_URL: z.url().optional(),
    DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/switchyard'),
    DATABASE_POOL_SIZE: int(20, 1, 500),
    MIGRATIONS_RUN: bool.default(true),
    REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
    REDIS_CLUSTER: bool.default(false),
    REDIS_PREFIX: z.string().default('sy:'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    MASTER_KEY: z.string().optional(),
    ADMIN_EMAIL: z.email().optional(),
    ADMIN_PASSWORD: z.string().min(8, 'at least 8 characters').optional(),
    ADMIN_SESSION_TTL_HOURS: int(12, 1, 24 * 90),
    // unset: catalog/default.yaml of this install; `none`: no file (the catalog is edited through the API)
    CATALOG_FILE: z.string().optional(),
    CURRENCY: z
      .string()
      .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD')
      .default('USD'),
    BODY_LIMIT: bytes.default(20 * 1024 * 1024),
    SHUTDOWN_GRACE_MS: int(30_000, 0, 600_000),
    WEB_CONCURRENCY: int(1, 1, 256),
    KEY_CACHE_TTL_MS: int(10_000, 0, 300_000),
    LIMITS_ON_REDIS_FAILURE: z.enum(['open', 'closed']).default('open'),
    TRUSTED_PROXIES: z.string().default(''),
    DEFAULT_KEY_RPM: int(60, 1, 1_000_000),
    IP_RATE_LIMIT: int(5000, 0, 100_000_000),
    IP_RATE_WINDOW_SECONDS: int(600, 1, 86_400),
    LEASE_FLUSH_MS: int(200, 10, 60_000),
    LEASE_IDLE_MS: int(10_000, 50, 3_600_000),
    LEASE_TTL_MS: int(120_000, 5_000, 3_600_000),
    LEASE_REQUESTS: int(16, 1, 10_000),
    USAGE_FLUSH_MS: int(1000, 10, 60_000),
    UPSTREAM_CONNECT_TIMEOUT_MS: int(5000, 100, 120_000),
    STRIPE_SECRET_KEY: z.string().optional(),
    STRIPE_WEBHOOK_SECRET: z.string().optional(),
    STRIPE_API_URL: z.url().optional(),
    METRICS_ENABLED: bool.default(true),
    DOCS_ENABLED: bool.default(true),
  })
  .superRefine((c, ctx) => {
    if (c.NODE_ENV === 'production' && !c.MASTER_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['MASTER_KEY'],
        message: 'required in production (32 random bytes, hex or base64)',
      });
    }
    // the demo seeds a known agent, workspace and key, and points providers at a local stand-in
    if (c.NODE_ENV === 'production' && c.DEMO) {
      ctx.addIssue({ code: 'custom', path: ['DEMO'], message: 'the demo never runs with NODE_ENV=production' });
    }
  });

export type RawConfig = z.infer<typeof configSchema>;
