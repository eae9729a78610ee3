// Wallets: holds and settlement for the /v1 pipeline, recharges, transfers and suspension for the
// admin API. Amounts are bigint nanos; the ledger repository does the SQL.
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig, GatewayError, InvalidationBus, LOGGER, Logger, formatAmount } from '@switchyard/core';
import type { AccountType } from './entities/account.entity';
import { InsufficientFundsError, LedgerRepository, SuspendedError } from './ledger.repository';

export interface WalletView {
  balance: string;
  held: string;
  available: string;
  currency: string;
  status: 'active' | 'suspended';
}

export interface TransactionView {
  id: string;
  kind: string;
  amount: string;
  note: string | null;
  reference: string | null;
  requests?: number;
  created_at: string;
}

type WalletOwner = { type: Exclude<AccountType, 'system'>; id: string };

@Injectable()
export class WalletsService implements OnModuleInit {
  constructor(
    private readonly ledger: LedgerRepository,
    private readonly db: DataSource,
    private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly bus: InvalidationBus,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.ledger.ensureSystemAccounts(this.config.currency);
  }

  /** Releases holds left by processes that died (their leases); run by the worker's maintenance queue. */
  async sweepExpiredHolds(): Promise<number> {
    return this.ledger.sweepExpiredHolds();
  }

  // ---- admin ----

  async view(owner: WalletOwner): Promise<WalletView> {
    const rows = (await this.db.query(
      `SELECT balance::text, held::text, status FROM accounts WHERE type = $1 AND owner_id = $2`,
      [owner.type, owner.id],
    )) as Array<{ balance: string; held: string; status: 'active' | 'suspended' }>;
    const r = rows[0] ?? { balance: '0', held: '0', status: 'active' as const };
    const balance = BigInt(r.balance);
    const held = BigInt(r.held);
    return {
      balance: formatAmount(balance),
      held: formatAmount(held),
      available: formatAmount(balance - held),
      currency: this.config.currency,
      status: r.status,
    };
  }

  /** Platform admin: mints credit from the treasury into a wallet. */
  async credit(
    owner: WalletOwner,
    amount: bigint,
    p: { note?: string | null; actorId: string; reference: string | null },
  ): Promise<string> {
    const to = await this.ledger.ensureWallet(owner.type, owner.id, this.config.currency);
    return this.moveOnce({
      kind: 'recharge',
      from: this.ledger.system('treasury'),
      to,
      amount,
      sourceMustCover: false,
      ...p,
    });
  }

  /** Agent: moves credit from its own wallet into one of its workspaces' (402 when it lacks funds). */
  async transfer(
    agentId: string,
    workspaceId: string,
    amount: bigint,
    p: { note?: string | null; actorId: string; reference: string | null },
  ): Promise<string> {
    const from = await this.ledger.ensureWallet('agent', agentId, this.config.currency);
    const to = await this.ledger.ensureWallet('workspace', workspaceId, this.config.currency);
    try {
      return await this.moveOnce({ kind: 'transfer', from, to, amount, sourceMustCover: true, ...p });
    } catch (e) {
      if (e instanceof InsufficientFundsError)
        throw new GatewayError(
          'insufficient_balance',
          "The agent's wallet does not hold enough to recharge this workspace.",
          'amount',
        );
      if (e instanceof SuspendedError) throw new GatewayError('wallet_suspended', "The agent's wallet is suspended.");
      throw e;
    }
  }

  /** Stripe top-up: credits a paid checkout session once, whatever the number of webhook deliveries. */
  async creditStripe(
    workspaceId: string,
    amount: bigint,
    sessionId: string,
    metadata: Record<string, unknown>,
  ): Promise<{ transactionId: string; created: boolean }> {
    const to = await this.ledger.ensureWallet('workspace', workspaceId, this.config.currency);
    const id = await this.ledger.move({
      kind: 'stripe_topup',
      reference: sessionId,
      from: this.ledger.system('stripe_clearing'),
      to,
      amount,
      sourceMustCover: false,
      metadata,
    });
    if (id) return { transactionId: id, created: true };
    return { transactionId: (await this.ledger.transactionByReference('stripe_topup', sessionId))!, created: false };
  }

  async setStatus(owner: WalletOwner, status: 'active' | 'suspended'): Promise<WalletView> {
    const id = await this.ledger.ensureWallet(owner.type, owner.id, this.config.currency);
    await this.ledger.setStatus(id, status);
    // every process stops serving this wallet from its lease at once
    if (status === 'suspended' && owner.type === 'workspace') await this.bus.publish('wallet', `retire:${owner.id}`);
    return this.view(owner);
  }

  async transactions(
    owner: WalletOwner,
    cursor: string | undefined,
    limit: number,
  ): Promise<{ data: TransactionView[]; next_cursor: string | null }> {
    let before: string | null = null;
    if (cursor) {
      if (!/^\d{1,19}$/.test(cursor))
        throw new GatewayError('bad_request', 'cursor is not a cursor returned by this API', 'cursor');
      before = cursor;
    }
    const rows = (await this.db.query(
      `SELECT e.id::text AS entry_id, t.id, t.kind, e.amount::text AS amount, t.note, t.reference, t.metadata->>'request_id' AS request_id,
              (t.metadata->'requests'->>a.id::text)::int AS requests, t.created_at
         FROM accounts a
         JOIN ledger_entries e ON e.account_id = a.id
         JOIN ledger_transactions t ON t.id = e.transaction_id
        WHERE a.type = $1 AND a.owner_id = $2 AND ($3::bigint IS NULL OR e.id < $3::bigint)
        ORDER BY e.id DESC LIMIT $4`,
      [owner.type, owner.id, before, limit + 1],
    )) as Array<{
      entry_id: string;
      id: string;
      kind: string;
      amount: string;
      note: string | null;
      reference: string | null;
      request_id: string | null;
      requests: number | null;
      created_at: Date;
    }>;
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    return {
      data: page.map((r) => ({
        id: r.id,
        kind: r.kind,
        amount: formatAmount(BigInt(r.amount)),
        note: r.note,
        // a request's own charge shows its request id, Stripe its session id; other references are internal
        reference: r.kind === 'usage' ? r.request_id : r.kind === 'stripe_topup' ? r.reference : null,
        // usage posted from a wallet lease: how many requests this posting paid for (the usage log has each)
        ...(r.kind === 'usage' && r.requests !== null ? { requests: r.requests } : {}),
        created_at: r.created_at.toISOString(),
      })),
      next_cursor: more ? page[page.length - 1].entry_id : null,
    };
  }

  /**
   * A movement with a reference (the Idempotency-Key) happens once: a replay returns the first
   * transaction's id. The reference is permanent, unlike the 24 h record of the key's response: the same
   * key for another amount or another wallet, even days later, is refused rather than answered with a
   * transaction that moved something else.
   */
  private async moveOnce(p: Parameters<LedgerRepository['move']>[0]): Promise<string> {
    const id = await this.ledger.move(p);
    if (id) return id;
    const first = await this.ledger.movementByReference(p.kind, p.reference!);
    if (first && first.from === p.from && first.to === p.to && first.amount === p.amount) return first.id;
    throw new GatewayError(
      'idempotency_key_reused',
      'This Idempotency-Key already moved another amount or to another wallet; use a new key.',
      'Idempotency-Key',
    );
  }
}
