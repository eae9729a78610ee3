// The /v1 pipeline, top to bottom: (key already authenticated) -> resolve model -> allowlist and
// limits -> hold funds -> [route to upstream: the caller] -> settle -> usage. Round trips per request:
// one Redis pipeline (limits) and one Postgres statement (hold) before the upstream; one Postgres
// statement (settle) after the response, off the client's latency.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, BeforeApplicationShutdown } from '@nestjs/common';
import type { Request } from 'express';
import { LOGGER, Logger } from '@switchyard/core';
import type { KeyContext } from '@switchyard/auth';
import { AllowlistsService } from '@switchyard/allowlists';
import { CatalogService, MeteredUsage, ResolvedModel, affordableOutputTokens, costOf } from '@switchyard/catalog';
import { LimitsService } from '@switchyard/limits';
import { Attempt, planAttempts } from '@switchyard/routing';
import { HeldFunds, WalletsService } from '@switchyard/wallets';
import { GatewayCall } from './gateway-call';

/** Output tokens assumed for the worst case when neither the client nor the catalog gives a limit. */
export const DEFAULT_MAX_OUTPUT = 4096;

export interface AdmitInput {
  req: Request;
  call: GatewayCall;
  key: KeyContext;
  model: ResolvedModel;
  requestedName: string;
  inputTokens: number;
  /** max output tokens fixed by the client; null lets the gateway cap it at what the balance pays */
  clientMaxOutput: number | null;
  /** embeddings and other requests without generated tokens */
  noOutput?: boolean;
}

export interface Admission {
  requestId: string;
  /**
   * The ledger reference of this request's charge, which makes it post at most once. Unique per
   * admission (the hold's id): the request id may come from the client (x-request-id), and two requests
   * sharing one would otherwise collide, leaving the second unpaid and its hold stuck.
   */
  reference: string;
  key: KeyContext;
  attempts: Attempt[];
  held: HeldFunds | null;
  /** set when the client gave no max tokens and the balance pays for fewer than the model's maximum */
  outputCap: number | null;
  rateHeaders: Record<string, string>;
  call: GatewayCall;
}

@Injectable()
export class GatewayPipeline implements BeforeApplicationShutdown {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly catalog: CatalogService,
    private readonly allowlists: AllowlistsService,
    private readonly limits: LimitsService,
    private readonly wallets: WalletsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async admit(i: AdmitInput): Promise<Admission> {
    i.call.key = i.key;
    i.call.modelRequested = i.requestedName;
    this.allowlists.assertAllowed(i.key, i.model, i.requestedName);
    const attempts = planAttempts(i.model, this.catalog, { allowed: (m) => this.allowlists.allows(i.key, m) });
    const { headers } = await this.limits.check(i.key, i.req.ip ?? '');

    // worst case over every model the plan may use (a fallback may cost more than the primary)
    const models = [...new Set(attempts.map((a) => a.model))];
    if (!models.length) models.push(i.model);
    const maxOut = i.noOutput ? 0 : (i.clientMaxOutput ?? maxOutputOf(i.model));
    let worst = 0n;
    let minimum = 0n;
    for (const m of models) {
      const w = costOf(m.price, { inputTokens: i.inputTokens, outputTokens: maxOut });
      const least = i.clientMaxOutput !== null || i.noOutput ? w : costOf(m.price, { inputTokens: i.inputTokens, outputTokens: 1 });
      if (w > worst) worst = w;
      if (least > minimum) minimum = least;
    }
    const held = await this.wallets.hold(i.key.workspaceId, worst, minimum, i.req.id);
    i.call.settlement = new Promise<bigint>((resolve) => (i.call.settle = resolve));
    let outputCap: number | null = null;
    if (held && i.clientMaxOutput === null && !i.noOutput && held.amount < worst) {
      outputCap = Math.max(1, Math.min(...models.map((m) => affordableOutputTokens(m.price, i.inputTokens, held.amount))));
    }
    return { requestId: i.req.id, reference: held?.holdId ?? randomUUID(), key: i.key, attempts, held, outputCap, rateHeaders: headers, call: i.call };
  }

  /**
   * Ends a request: the exact cost of what was produced, settled against the hold. Returns the cost at
   * once when the hold covers it (the common case, the response is not delayed); otherwise waits for the
   * ledger to say what could be charged. A request with no usage releases its hold.
   */
  async finish(adm: Admission, served: ResolvedModel | undefined, usage: MeteredUsage | undefined, opts: { capAtHold?: boolean } = {}): Promise<bigint> {
    let cost = served && usage ? costOf(served.price, usage) : 0n;
    if (opts.capAtHold && adm.held && cost > adm.held.amount) cost = adm.held.amount;
    adm.call.usage = usage;
    const settled = this.wallets
      .settle(adm.held, adm.key.workspaceId, cost, adm.reference, { model: served?.id ?? null, request_id: adm.requestId })
      .catch((e: unknown) => {
        this.logger.error({ req_id: adm.requestId, err: (e as Error).message }, 'settlement failed: the hold stays until the sweeper releases it');
        return 0n;
      });
    this.track(settled);
    adm.call.charged = settled;
    adm.call.settle?.(settled);
    if (usage && (usage.inputTokens || usage.outputTokens)) {
      this.track(settled.then((charged) => this.limits.record(adm.key, { tokens: usage.inputTokens + usage.outputTokens, spend: charged })));
    }
    if (!adm.held || cost <= adm.held.amount) return cost;
    return settled;
  }

  /** Releases the hold of a request that produced nothing (upstream failure, client gone before a byte). */
  release(adm: Admission): void {
    void this.finish(adm, undefined, undefined);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Graceful stop: every hold is settled or released before the pools close. */
  async beforeApplicationShutdown(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }
}

export function maxOutputOf(m: ResolvedModel): number {
  return m.capabilities.max_output_tokens ?? DEFAULT_MAX_OUTPUT;
}
