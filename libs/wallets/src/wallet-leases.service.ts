// Wallet leases: how the /v1 hot path pays without a database round trip per request. Each process
// reserves a block of a workspace's funds (a hold row of kind 'lease'), sets requests' worst cases aside
// from it in memory, and posts what they cost in one transaction every LEASE_FLUSH_MS. The database
// still guarantees the money rules: a lease is a hold, so a wallet never goes below zero, and every
// posting is a balanced ledger transaction. A process that dies leaves a lease the sweeper releases
// after LEASE_TTL_MS, and loses at most one batch of unposted charges (never overcharging anyone).
import { randomUUID } from 'node:crypto';
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig, GatewayError, InvalidationBus, LOGGER, Logger, formatAmount } from '@switchyard/core';
import { LeaseRepository } from './lease.repository';
import { LedgerRepository } from './ledger.repository';

export interface Lease {
  workspaceId: string;
  holdId: string;
  accountId: string | null;
  /** the lease row's amount in the database (charges are subtracted when they are posted) */
  amount: bigint;
  /** worst cases of requests in flight */
  reserved: bigint;
  /** charged in memory, not yet posted */
  pending: bigint;
  pendingRequests: number;
  lastActive: number;
  growing?: Promise<boolean>;
}

/** Funds set aside for one request, out of its process's lease. */
export interface Reservation {
  lease: Lease;
  amount: bigint;
  done: boolean;
}

interface Batch {
  reference: string;
  items: Array<{ l: Lease; amount: bigint; requests: number }>;
}

export const leaseFree = (l: Lease): bigint => l.amount - l.reserved - l.pending;
const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);
const SQUEEZE_WAIT_MS = 50;
/** how long charges may wait for the ledger before new requests are refused: a few flushes, at least 2 s */
const POSTING_GRACE_FLUSHES = 4;
const POSTING_GRACE_MIN_MS = 2_000;

const billingUnavailable = () =>
  new GatewayError('service_unavailable', 'The billing store is unreachable; try again shortly.', null, {
    'Retry-After': '5',
  });

@Injectable()
export class WalletLeasesService implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  /** the lease new requests of a workspace use */
  private readonly active = new Map<string, Lease>();
  /** leases no longer used for new requests, waiting for their requests and charges to finish */
  private readonly retired = new Set<Lease>();
  private timers: NodeJS.Timeout[] = [];
  private flushing?: Promise<void>;
  private retryAt = 0;
  /** the batch being posted, or whose posting failed: retried as it is, under the same ledger reference */
  private batch?: Batch;
  /** when the oldest charge not yet posted was made (null: everything is posted) */
  private unpostedSince: number | null = null;

  constructor(
    private readonly repo: LeaseRepository,
    private readonly ledger: LedgerRepository,
    private readonly config: AppConfig,
    private readonly bus: InvalidationBus,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    const { flushMs, idleMs, ttlMs } = this.config.lease;
    this.timers.push(setInterval(() => void this.flush(), flushMs));
    this.timers.push(setInterval(() => void this.housekeeping(), Math.min(1000, idleMs)));
    this.timers.push(setInterval(() => void this.heartbeat(), Math.max(1000, Math.floor(ttlMs / 4))));
    for (const t of this.timers) t.unref();
    // `retire:<ws>` (wallet suspended) and `squeeze:<ws>` (another process is short of funds)
    this.bus.on('wallet', (msg) => void this.onWalletMessage(msg));
  }

  /**
   * Sets aside up to `worst` for one request (at least `minimum`). No I/O while the lease has room;
   * when it has not, one statement grows it. 402 when the wallet cannot cover `minimum`.
   */
  async reserve(workspaceId: string, worst: bigint, minimum: bigint): Promise<Reservation | null> {
    if (worst <= 0n) return null;
    this.assertPostingHealthy();
    const r = await this.tryReserve(workspaceId, worst, minimum);
    if (r) return r;
    // other processes (and this one) may sit on unused lease funds of this wallet: ask them back
    await this.squeeze(workspaceId);
    return (await this.tryReserve(workspaceId, worst, minimum)) ?? Promise.reject(this.insufficient(minimum));
  }

  private async tryReserve(workspaceId: string, worst: bigint, minimum: bigint): Promise<Reservation | null> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const l = this.active.get(workspaceId) ?? this.create(workspaceId);
      if (leaseFree(l) >= worst) return this.take(l, worst);
      if (l.growing) {
        await l.growing; // another request is growing this lease: see what it got first
        continue;
      }
      if (!(await this.grow(l, worst, minimum))) break;
    }
    const l = this.active.get(workspaceId);
    if (l && leaseFree(l) >= minimum && leaseFree(l) > 0n) return this.take(l, min(worst, leaseFree(l)));
    return null;
  }

  /**
   * Ends a request: charges `cost` out of its reservation (beyond it, out of the lease's free funds,
   * unless `capAtReservation`) and returns the rest to the lease. The amount charged is known at once,
   * and is never more than the lease holds: every charge posts from the lease row in full.
   */
  finish(r: Reservation | null, cost: bigint, capAtReservation = false): bigint {
    if (!r || r.done) return 0n;
    r.done = true;
    const l = r.lease;
    l.reserved -= r.amount;
    // the reservation is back in the lease's free funds, so those free funds are the most it may pay
    const cap = capAtReservation || this.retired.has(l) ? r.amount : leaseFree(l);
    const charged = max(0n, min(cost, cap));
    l.pending += charged;
    if (charged > 0n) {
      l.pendingRequests++;
      this.unpostedSince ??= Date.now();
    }
    l.lastActive = Date.now();
    if (l.pending * 2n >= l.amount) void this.flush();
    return charged;
  }

  /** Posts every pending charge of this process in one transaction. */
  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    if (Date.now() < this.retryAt) return;
    this.batch ??= this.nextBatch();
    const batch = this.batch;
    if (!batch) return;
    const attempt = Date.now();
    try {
      const posted = await this.repo.charge(
        batch.items.map((b) => ({ holdId: b.l.holdId, accountId: b.l.accountId!, amount: b.amount })),
        this.ledger.system('revenue'),
        batch.reference,
        // per wallet, how many requests this posting pays for (the wallet's transaction history shows it)
        { requests: Object.fromEntries(batch.items.map((b) => [b.l.accountId!, b.requests])) },
        this.config.lease.ttlMs,
      );
      this.batch = undefined;
      for (const b of batch.items) {
        b.l.pending -= b.amount;
        b.l.pendingRequests -= b.requests;
        const p = posted.get(b.l.holdId) ?? { fromLease: 0n, loose: 0n };
        b.l.amount -= p.fromLease;
        // the lease row held less than this lease believed (swept while this process stalled)
        if (p.fromLease < b.amount) this.lost(b.l, b.amount - p.fromLease - p.loose);
      }
      const more = [...this.active.values(), ...this.retired].some((l) => l.pending > 0n);
      this.unpostedSince = more ? attempt : null;
    } catch (e) {
      this.retryAt = Date.now() + 1000;
      this.logger.error(
        { err: (e as Error).message },
        'posting lease charges failed: retrying (requests are served from leases for a short while)',
      );
    }
  }

  /** Every pending charge of this process, as one batch with its own ledger reference. */
  private nextBatch(): Batch | undefined {
    const items = [...this.active.values(), ...this.retired]
      .filter((l) => l.pending > 0n && l.accountId)
      .map((l) => ({ l, amount: l.pending, requests: l.pendingRequests }));
    return items.length ? { reference: `lease-batch:${randomUUID()}`, items } : undefined;
  }

  /**
   * DESIGN.md: no request without its hold. A lease is a hold, but charges made from it in memory are
   * only safe while they reach the ledger; once a charge has waited longer than this bound (Postgres
   * unreachable, or answering nothing), new requests are refused until posting works again.
   */
  private assertPostingHealthy(): void {
    const since = this.unpostedSince;
    const bound = Math.max(POSTING_GRACE_MIN_MS, POSTING_GRACE_FLUSHES * this.config.lease.flushMs);
    if (since !== null && Date.now() - since > bound) {
      void this.flush(); // a request is a good moment to try again
      throw billingUnavailable();
    }
  }

  /** The lease row was swept (this process stalled past LEASE_TTL_MS): its funds went back to the wallet. */
  private lost(l: Lease, unposted: bigint): void {
    l.amount = 0n;
    this.retire(l);
    if (unposted > 0n)
      this.logger.error(
        { workspace_id: l.workspaceId, unposted: formatAmount(unposted) },
        'lease expired before its charges were posted',
      );
  }

  private create(workspaceId: string): Lease {
    const l: Lease = {
      workspaceId,
      holdId: randomUUID(),
      accountId: null,
      amount: 0n,
      reserved: 0n,
      pending: 0n,
      pendingRequests: 0,
      lastActive: Date.now(),
    };
    this.active.set(workspaceId, l);
    return l;
  }

  private take(l: Lease, amount: bigint): Reservation {
    l.reserved += amount;
    l.lastActive = Date.now();
    return { lease: l, amount, done: false };
  }

  /** One statement: enough for `worst` now and, funds permitting, the next LEASE_REQUESTS like it. */
  private grow(l: Lease, worst: bigint, minimum: bigint): Promise<boolean> {
    const have = leaseFree(l);
    const full = max(0n, worst - have);
    const ideal = max(full, worst * BigInt(this.config.lease.requests));
    const need = max(1n, minimum - have);
    l.growing = (async () => {
      let g;
      try {
        g = await this.repo.grow({
          workspaceId: l.workspaceId,
          holdId: l.holdId,
          ideal,
          full,
          need,
          ttlMs: this.config.lease.ttlMs,
        });
      } catch (e) {
        this.logger.error({ err: (e as Error).message }, 'growing a wallet lease failed');
        throw billingUnavailable();
      }
      if (g.status === 'suspended') {
        this.retire(l);
        throw new GatewayError('wallet_suspended', 'This workspace wallet is suspended. Contact your agent or admin.');
      }
      if (g.accountId) l.accountId = g.accountId;
      if (g.granted === null) return false;
      l.amount += g.granted;
      return true;
    })().finally(() => (l.growing = undefined));
    return l.growing;
  }

  /** Every process gives back the unused part of its lease on this wallet. */
  private async squeeze(workspaceId: string): Promise<void> {
    const own = this.active.get(workspaceId);
    if (own) await this.giveBack(own);
    await this.bus.publish('wallet', `squeeze:${workspaceId}`);
    await new Promise((r) => setTimeout(r, SQUEEZE_WAIT_MS));
  }

  private async giveBack(l: Lease): Promise<void> {
    const x = leaseFree(l);
    if (x <= 0n || !l.accountId) return;
    l.amount -= x; // first, so no request is given these funds meanwhile
    try {
      await this.repo.shrink(l.holdId, x);
    } catch (e) {
      l.amount += x;
      this.logger.warn({ err: (e as Error).message }, 'giving back lease funds failed');
    }
  }

  private retire(l: Lease): void {
    if (this.active.get(l.workspaceId) === l) this.active.delete(l.workspaceId);
    this.retired.add(l);
  }

  private async onWalletMessage(msg: string): Promise<void> {
    const [what, workspaceId] = msg.split(':');
    const l = workspaceId ? this.active.get(workspaceId) : undefined;
    if (!l) return;
    if (what === 'retire') this.retire(l);
    await this.giveBack(l);
  }

  private insufficient(minimum: bigint): GatewayError {
    return new GatewayError(
      'insufficient_balance',
      `Insufficient balance: this request needs up to ${formatAmount(minimum)} ${this.config.currency}. Top up the wallet and retry.`,
    );
  }

  /** Retires idle leases, then releases retired ones whose requests and charges are done. */
  private async housekeeping(): Promise<void> {
    const now = Date.now();
    for (const l of [...this.active.values()]) {
      if (l.reserved === 0n && !l.growing && now - l.lastActive >= this.config.lease.idleMs) this.retire(l);
    }
    const done = [...this.retired].filter((l) => l.reserved === 0n);
    if (done.some((l) => l.pending > 0n)) await this.flush();
    for (const l of done) {
      if (l.reserved !== 0n || l.pending !== 0n) continue;
      try {
        if (l.accountId) await this.repo.release(l.holdId);
        this.retired.delete(l);
      } catch (e) {
        this.logger.warn({ err: (e as Error).message }, 'releasing a wallet lease failed: retrying');
      }
    }
  }

  private async heartbeat(): Promise<void> {
    const live = [...this.active.values(), ...this.retired].filter((l) => l.accountId);
    try {
      const beat = await this.repo.heartbeat(
        live.map((l) => l.holdId),
        this.config.lease.ttlMs,
      );
      const gone = new Set(beat.gone);
      const suspended = new Set(beat.suspended);
      for (const l of live) {
        if (gone.has(l.holdId) && l.amount > 0n) this.lost(l, 0n);
        else if (suspended.has(l.holdId) && this.active.get(l.workspaceId) === l) {
          // a suspension whose message was lost: stop serving from this lease now
          this.retire(l);
          await this.giveBack(l);
        }
      }
    } catch {
      // the next heartbeat tries again; the TTL is four heartbeats long
    }
  }

  /** Graceful stop: the server has closed and requests finished; post and release everything. */
  async beforeApplicationShutdown(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const l of [...this.active.values()]) this.retire(l);
    const until = Date.now() + this.config.shutdownGraceMs;
    while ([...this.retired].some((l) => l.reserved > 0n) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    // every batch (a failed one first), retried within the grace if the database is briefly away
    for (let i = 0; [...this.retired].some((l) => l.pending > 0n) && (i === 0 || Date.now() < until); i++) {
      if (i) await new Promise((r) => setTimeout(r, 200));
      this.retryAt = 0;
      await this.flush();
    }
    await this.housekeeping();
  }

  onApplicationShutdown(): void {
    for (const t of this.timers) clearInterval(t);
  }

  /** For tests and tools: what this process holds. */
  snapshot(): Array<{
    workspaceId: string;
    holdId: string;
    amount: bigint;
    reserved: bigint;
    pending: bigint;
    retired: boolean;
  }> {
    return [...this.active.values(), ...this.retired].map((l) => ({
      workspaceId: l.workspaceId,
      holdId: l.holdId,
      amount: l.amount,
      reserved: l.reserved,
      pending: l.pending,
      retired: this.retired.has(l),
    }));
  }
}
