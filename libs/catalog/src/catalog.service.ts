// The catalog in memory: every process keeps a resolved snapshot (prices parsed, provider keys
// decrypted) so resolving a model costs no I/O. Admin edits publish an invalidation; a periodic reload
// bounds staleness if one is lost.
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import {
  AppConfig,
  GatewayError,
  InvalidationBus,
  LOGGER,
  Logger,
  decryptSecret,
  encryptSecret,
} from '@switchyard/core';
import { CatalogFile, ModelInput, ProviderInput, readCatalogFile } from './catalog-file';
import { Capabilities, Model, ModelKind, ModelRoute } from './entities/model.entity';
import { Provider, ProviderKind, ProviderQuirks } from './entities/provider.entity';
import { Price, PriceSpec, parsePrice } from './pricing';
import { openHeaders, sealHeaders } from './provider-headers';

export interface ResolvedProvider {
  id: string;
  kind: ProviderKind;
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
  quirks: ProviderQuirks;
  enabled: boolean;
}

export interface ResolvedModel {
  id: string;
  kind: ModelKind;
  ownedBy: string;
  /** every name that reaches this model: id, aliases, owned_by/id */
  names: string[];
  capabilities: Capabilities;
  priceSpec: PriceSpec;
  price: Price;
  routes: Array<Required<ModelRoute>>;
  fallbacks: string[];
  createdAt: Date;
}

interface Snapshot {
  byName: Map<string, ResolvedModel>;
  models: ResolvedModel[];
  providers: Map<string, ResolvedProvider>;
}

const RELOAD_MS = 30_000;

@Injectable()
export class CatalogService implements OnModuleInit, OnApplicationShutdown {
  private snap: Snapshot = { byName: new Map(), models: [], providers: new Map() };
  private timer?: NodeJS.Timeout;
  private reloading?: Promise<void>;

  constructor(
    private readonly db: DataSource,
    @InjectRepository(Provider) private readonly providers: Repository<Provider>,
    @InjectRepository(Model) private readonly models: Repository<Model>,
    private readonly config: AppConfig,
    private readonly bus: InvalidationBus,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.sealPlainHeaders();
    if (this.config.catalogFile) {
      const file = readCatalogFile(this.config.catalogFile, this.config.catalogEnv);
      await this.upsertCatalog(file);
      this.logger.info({ providers: file.providers.length, models: file.models.length }, 'catalog file applied');
    }
    await this.reload();
    this.bus.on(
      'catalog',
      () => void this.reload().catch((e: unknown) => this.logger.warn({ err: e }, 'catalog reload failed')),
    );
    this.timer = setInterval(() => void this.reload().catch(() => undefined), RELOAD_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  // ---- reads (hot path: memory only) ----

  /** The model a client named, or 400 model_not_found. */
  resolve(name: unknown, param = 'model'): ResolvedModel {
    if (typeof name !== 'string' || !name) throw new GatewayError('bad_request', 'model is required', param);
    const m = this.snap.byName.get(name);
    if (!m)
      throw new GatewayError(
        'model_not_found',
        `The model '${name}' does not exist. GET /v1/models lists the models you can use.`,
        param,
      );
    return m;
  }

  find(name: string): ResolvedModel | undefined {
    return this.snap.byName.get(name);
  }

  listModels(): ResolvedModel[] {
    return this.snap.models;
  }

  provider(id: string): ResolvedProvider | undefined {
    return this.snap.providers.get(id);
  }

  async reload(): Promise<void> {
    this.reloading ??= this.doReload().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async doReload(): Promise<void> {
    const [providers, models] = await Promise.all([this.providers.find(), this.models.find({ order: { id: 'ASC' } })]);
    const pmap = new Map<string, ResolvedProvider>();
    for (const p of providers) {
      let apiKey: string | undefined;
      if (p.api_key_enc) {
        try {
          apiKey = decryptSecret(p.api_key_enc, this.config.masterKey);
        } catch {
          this.logger.error({ provider: p.id }, 'provider key cannot be decrypted with this MASTER_KEY: set it again');
        }
      }
      const headers = openHeaders(p.secret_headers, this.config.masterKey, (name) =>
        this.logger.error({ provider: p.id, header: name }, 'provider header cannot be decrypted with this MASTER_KEY'),
      );
      pmap.set(p.id, {
        id: p.id,
        kind: p.kind,
        baseUrl: p.base_url.replace(/\/+$/, ''),
        apiKey,
        timeoutMs: p.timeout_ms,
        quirks: { ...(p.quirks ?? {}), ...(Object.keys(headers).length ? { headers } : {}) },
        enabled: p.enabled,
      });
    }
    const byName = new Map<string, ResolvedModel>();
    const list: ResolvedModel[] = [];
    for (const m of models) {
      if (!m.enabled) continue;
      let price: Price;
      try {
        price = parsePrice(m.price);
      } catch {
        this.logger.error({ model: m.id }, 'model has an invalid price: not served');
        continue;
      }
      const names = unique([m.id, ...m.aliases, `${m.owned_by}/${m.id}`]);
      const r: ResolvedModel = {
        id: m.id,
        kind: m.kind,
        ownedBy: m.owned_by,
        names,
        capabilities: m.capabilities ?? {},
        priceSpec: m.price,
        price,
        routes: (m.routes ?? []).map((x) => ({
          provider: x.provider,
          model: x.model,
          priority: x.priority ?? 0,
          weight: x.weight ?? 1,
        })),
        fallbacks: m.fallbacks ?? [],
        createdAt: m.created_at,
      };
      list.push(r);
      for (const n of names) if (!byName.has(n) || n === m.id) byName.set(n, r);
    }
    this.snap = { byName, models: list, providers: pmap };
  }

  // ---- writes (catalog file, admin API) ----

  async upsertCatalog(file: CatalogFile): Promise<void> {
    await this.db.transaction(async (m) => {
      await lockModels(m);
      for (const p of file.providers) {
        const existing = await m.getRepository(Provider).findOneBy({ id: p.id });
        // the file states a provider's headers in full: none listed means none
        const full = { ...p, quirks: { ...p.quirks, headers: p.quirks.headers ?? {} } };
        await m.getRepository(Provider).save(this.providerRecord(full, existing));
      }
      for (const x of file.models) await m.getRepository(Model).save(this.modelRecord(x));
    });
    await this.bus.publish('catalog', '*');
  }

  /**
   * Headers stored in clear by an older version (in quirks) are sealed into secret_headers. Runs at
   * start, where MASTER_KEY is known; the row's quirks are re-checked so two processes agree.
   */
  private async sealPlainHeaders(): Promise<void> {
    const plain = (await this.providers.query(`SELECT id FROM providers WHERE quirks ? 'headers'`)) as Array<{
      id: string;
    }>;
    for (const { id } of plain) {
      await this.db.transaction(async (m) => {
        const rows = m.getRepository(Provider);
        const p = await rows.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
        if (!p?.quirks?.headers) return;
        const { headers, ...rest } = p.quirks;
        p.secret_headers = { ...p.secret_headers, ...sealHeaders(headers, {}, this.config.masterKey) };
        p.quirks = rest;
        await rows.save(p);
      });
      this.logger.info({ provider: id }, 'provider headers sealed with MASTER_KEY');
    }
  }

  async listProviderRecords(): Promise<Provider[]> {
    return this.providers.find({ order: { id: 'ASC' } });
  }

  async getProviderRecord(id: string): Promise<Provider> {
    const p = await this.providers.findOneBy({ id });
    if (!p) throw new GatewayError('not_found', 'No such provider.');
    return p;
  }

  async createProvider(input: ProviderInput): Promise<Provider> {
    if (await this.providers.existsBy({ id: input.id }))
      throw new GatewayError('conflict', `provider ${input.id} exists`, 'id');
    await this.providers.save(this.providerRecord(input, null));
    await this.bus.publish('catalog', input.id);
    return this.getProviderRecord(input.id);
  }

  async updateProvider(id: string, changes: Partial<Omit<ProviderInput, 'id'>>): Promise<Provider> {
    const cur = await this.getProviderRecord(id);
    const merged: ProviderInput = {
      id,
      kind: cur.kind,
      base_url: cur.base_url,
      timeout_ms: cur.timeout_ms,
      enabled: cur.enabled,
      quirks: cur.quirks, // holds no headers: those stay sealed unless the change sends quirks.headers
      ...changes,
    };
    await this.providers.save(this.providerRecord(merged, cur));
    await this.bus.publish('catalog', id);
    return this.getProviderRecord(id);
  }

  async listModelRecords(): Promise<Model[]> {
    return this.models.find({ order: { id: 'ASC' } });
  }

  async getModelRecord(id: string): Promise<Model> {
    const m = await this.models.findOneBy({ id });
    if (!m) throw new GatewayError('not_found', 'No such model.');
    return m;
  }

  async createModel(input: ModelInput): Promise<Model> {
    await this.db.transaction(async (em) => {
      await lockModels(em);
      if (await em.getRepository(Model).existsBy({ id: input.id }))
        throw new GatewayError('conflict', `model ${input.id} exists`, 'id');
      await this.checkModelRefs(em, input);
      await em.getRepository(Model).save(this.modelRecord(input));
    });
    await this.bus.publish('catalog', input.id);
    return this.getModelRecord(input.id);
  }

  async updateModel(id: string, changes: Partial<Omit<ModelInput, 'id'>>): Promise<Model> {
    await this.db.transaction(async (em) => {
      await lockModels(em);
      const cur = await em.getRepository(Model).findOneBy({ id });
      if (!cur) throw new GatewayError('not_found', 'No such model.');
      const merged: ModelInput = {
        id,
        kind: cur.kind,
        owned_by: cur.owned_by,
        aliases: cur.aliases,
        capabilities: cur.capabilities,
        price: cur.price,
        routes: cur.routes as ModelInput['routes'],
        fallbacks: cur.fallbacks,
        enabled: cur.enabled,
        ...changes,
      };
      await this.checkModelRefs(em, merged);
      await em.getRepository(Model).save(this.modelRecord(merged));
    });
    await this.bus.publish('catalog', id);
    // the saved entity lacks the columns the database fills (created_at): answer with the stored row
    return this.getModelRecord(id);
  }

  /** Routes to known providers; names (id, aliases) no other model uses; fallbacks to models that exist. */
  private async checkModelRefs(em: EntityManager, m: ModelInput): Promise<void> {
    for (const [i, r] of m.routes.entries()) {
      if (!(await em.getRepository(Provider).existsBy({ id: r.provider })))
        throw new GatewayError('bad_request', `route to unknown provider ${r.provider}`, `routes.${i}.provider`);
    }
    const owners = new Map<string, string>();
    for (const o of await em.getRepository(Model).find()) {
      if (o.id === m.id) continue;
      // every name that reaches a model: see the snapshot's `names`
      for (const n of [o.id, ...o.aliases, `${o.owned_by}/${o.id}`]) owners.set(n, o.id);
    }
    const own = new Set([m.id, ...m.aliases, `${m.owned_by}/${m.id}`]);
    if (owners.has(m.id))
      throw new GatewayError('bad_request', `${m.id} is already a name of model ${owners.get(m.id)}`, 'id');
    for (const [i, a] of m.aliases.entries()) {
      const owner = owners.get(a);
      if (owner)
        throw new GatewayError('bad_request', `alias ${a} is already a name of model ${owner}`, `aliases.${i}`);
    }
    for (const [i, f] of m.fallbacks.entries()) {
      if (own.has(f)) throw new GatewayError('bad_request', 'a model cannot fall back to itself', `fallbacks.${i}`);
      if (!owners.has(f)) throw new GatewayError('bad_request', `fallback ${f} is not a model`, `fallbacks.${i}`);
    }
  }

  private providerRecord(p: ProviderInput, existing: Provider | null): Provider {
    const rec = existing ?? this.providers.create({ id: p.id });
    rec.kind = p.kind;
    rec.base_url = p.base_url;
    rec.timeout_ms = p.timeout_ms;
    rec.enabled = p.enabled;
    const { headers, ...quirks } = p.quirks ?? {};
    rec.quirks = quirks;
    // quirks.headers absent: the stored ones stay (values are write-only, so an edit of the other
    // quirks must not need them); present: they replace the stored set, "[redacted]" keeping a value
    if (headers !== undefined || !existing)
      rec.secret_headers = sealHeaders(headers ?? {}, existing?.secret_headers ?? {}, this.config.masterKey);
    // api_key absent: keep the stored one; empty or null (an unset ${VAR}): no key
    if (p.api_key !== undefined) rec.api_key_enc = p.api_key ? encryptSecret(p.api_key, this.config.masterKey) : null;
    else if (!existing) rec.api_key_enc = null;
    return rec;
  }

  private modelRecord(m: ModelInput): Model {
    return this.models.create({
      id: m.id,
      kind: m.kind,
      owned_by: m.owned_by,
      aliases: m.aliases,
      capabilities: m.capabilities,
      price: m.price,
      routes: m.routes,
      fallbacks: m.fallbacks,
      enabled: m.enabled,
    });
  }
}

/** Model names are checked across rows before a write: one writer at a time keeps two from taking the same name. */
async function lockModels(em: EntityManager): Promise<void> {
  await em.query(`SELECT pg_advisory_xact_lock(hashtext('switchyard.catalog.models'))`);
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

export type { Capabilities, ModelKind };
