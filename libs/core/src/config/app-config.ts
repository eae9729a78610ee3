import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { configSchema, RawConfig } from './config.schema';

/** Typed, validated configuration built once at start. Nothing else reads process.env. */
export class AppConfig {
  readonly nodeEnv: RawConfig['NODE_ENV'];
  readonly demo: boolean;
  readonly port: number;
  /** which apps `npm start` runs in this process */
  readonly apps: Array<'gateway' | 'admin' | 'worker'>;
  readonly host: string;
  readonly publicUrl: string;
  readonly databaseUrl: string;
  readonly databasePoolSize: number;
  readonly migrationsRun: boolean;
  readonly redisUrl: string;
  /** REDIS_URL names a node of a Redis Cluster */
  readonly redisCluster: boolean;
  readonly redisPrefix: string;
  readonly logLevel: RawConfig['LOG_LEVEL'];
  /** 32 bytes that encrypt provider keys at rest (AES-256-GCM) */
  readonly masterKey: Buffer;
  readonly masterKeyIsDerived: boolean;
  readonly adminEmail?: string;
  readonly adminPassword?: string;
  readonly adminSessionTtlMs: number;
  /** YAML upserted at start: CATALOG_FILE, else this install's catalog/default.yaml (`none`: no file) */
  readonly catalogFile?: string;
  readonly currency: string;
  readonly bodyLimit: number;
  readonly shutdownGraceMs: number;
  readonly webConcurrency: number;
  readonly keyCacheTtlMs: number;
  readonly limitsOnRedisFailure: 'open' | 'closed';
  readonly trustedProxies: string[];
  readonly defaultKeyRpm: number;
  readonly ipRateLimit: number;
  readonly ipRateWindowSeconds: number;
  /** wallet leases: batch interval, release after idle, expiry if the process dies, size in worst cases */
  readonly lease: { flushMs: number; idleMs: number; ttlMs: number; requests: number };
  readonly usageFlushMs: number;
  readonly upstreamConnectTimeoutMs: number;
  readonly stripe: { secretKey?: string; webhookSecret?: string; apiUrl?: string };
  readonly metricsEnabled: boolean;
  readonly docsEnabled: boolean;
  /** the environment, only for `${NAME}` substitution in CATALOG_FILE */
  readonly catalogEnv: Readonly<Record<string, string | undefined>>;

  constructor(raw: RawConfig, env: NodeJS.ProcessEnv = {}) {
    this.nodeEnv = raw.NODE_ENV;
    this.demo = raw.DEMO;
    this.port = raw.PORT;
    this.apps = raw.APPS;
    this.host = raw.HOST;
    this.publicUrl = (raw.PUBLIC_URL ?? `http://localhost:${raw.PORT}`).replace(/\/+$/, '');
    this.databaseUrl = raw.DATABASE_URL;
    this.databasePoolSize = raw.DATABASE_POOL_SIZE;
    this.migrationsRun = raw.MIGRATIONS_RUN;
    this.redisUrl = raw.REDIS_URL;
    this.redisCluster = raw.REDIS_CLUSTER;
    this.redisPrefix = raw.REDIS_PREFIX;
    this.logLevel = raw.LOG_LEVEL;
    const mk = parseMasterKey(raw.MASTER_KEY);
    this.masterKey = mk.key;
    this.masterKeyIsDerived = mk.derived;
    this.adminEmail = raw.ADMIN_EMAIL;
    this.adminPassword = raw.ADMIN_PASSWORD;
    this.adminSessionTtlMs = raw.ADMIN_SESSION_TTL_HOURS * 3_600_000;
    this.catalogFile = raw.CATALOG_FILE === 'none' ? undefined : (raw.CATALOG_FILE ?? defaultCatalogFile());
    this.currency = raw.CURRENCY;
    this.bodyLimit = raw.BODY_LIMIT;
    this.shutdownGraceMs = raw.SHUTDOWN_GRACE_MS;
    this.webConcurrency = raw.WEB_CONCURRENCY;
    this.keyCacheTtlMs = raw.KEY_CACHE_TTL_MS;
    this.limitsOnRedisFailure = raw.LIMITS_ON_REDIS_FAILURE;
    this.trustedProxies = raw.TRUSTED_PROXIES.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    this.defaultKeyRpm = raw.DEFAULT_KEY_RPM;
    this.ipRateLimit = raw.IP_RATE_LIMIT;
    this.ipRateWindowSeconds = raw.IP_RATE_WINDOW_SECONDS;
    this.lease = {
      flushMs: raw.LEASE_FLUSH_MS,
      idleMs: raw.LEASE_IDLE_MS,
      ttlMs: raw.LEASE_TTL_MS,
      requests: raw.LEASE_REQUESTS,
    };
    this.usageFlushMs = raw.USAGE_FLUSH_MS;
    this.upstreamConnectTimeoutMs = raw.UPSTREAM_CONNECT_TIMEOUT_MS;
    this.stripe = {
      secretKey: raw.STRIPE_SECRET_KEY,
      webhookSecret: raw.STRIPE_WEBHOOK_SECRET,
      apiUrl: raw.STRIPE_API_URL,
    };
    this.metricsEnabled = raw.METRICS_ENABLED;
    this.docsEnabled = raw.DOCS_ENABLED;
    this.catalogEnv = Object.freeze({ ...env });
  }

  /** Database name from DATABASE_URL (created at start when missing). */
  get databaseName(): string {
    return decodeURIComponent(new URL(this.databaseUrl).pathname.replace(/^\//, '')) || 'postgres';
  }
}

/** catalog/default.yaml next to the package.json this code runs from (source tree, dist, or image). */
export function defaultCatalogFile(from = __dirname): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'catalog', 'default.yaml');
    if (existsSync(join(dir, 'package.json')) && existsSync(file)) return file;
    if (dirname(dir) === dir) return undefined;
  }
}

function parseMasterKey(value: string | undefined): { key: Buffer; derived: boolean } {
  if (!value) {
    // Demo, development and tests only (production refuses to start without MASTER_KEY): a fixed
    // derived key, so encrypted provider keys survive restarts of a local install.
    return { key: createHash('sha256').update('switchyard-development-master-key').digest(), derived: true };
  }
  const hex = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : null;
  const b64 = hex ? null : Buffer.from(value, 'base64');
  const key = hex ?? b64!;
  if (key.length !== 32) throw new ConfigError('MASTER_KEY: must be 32 bytes as 64 hex characters or base64');
  return { key, derived: false };
}

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError with one line per invalid setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  return new AppConfig(parsed.data, env);
}
