// The /v1 pipeline, top to bottom: (key already authenticated) -> resolve model -> allowlist and
// limits -> hold funds -> [route to upstream: the caller] -> settle -> usage. Round trips per request:
// one to Redis (limits: two commands sent together). Funds are held and settled against this process's
// wallet lease in memory; the lease itself is grown, and its charges posted, by a few batched
// statements a second.
import { Inject, Injectable, BeforeApplicationShutdown } from '@nestjs/common';
import type { Request } from 'express';
import { GatewayError, LOGGER, Logger } from '@switchyard/core';
import type { KeyContext } from '@switchyard/auth';
import { AllowlistsService } from '@switchyard/allowlists';
import { CatalogService, MeteredUsage, ResolvedModel, affordableOutputTokens, costOf } from '@switchyard/catalog';
import { LimitReservation, LimitsService } from '@switchyard/limits';
import { Attempt, planAttempts } from '@switchyard/routing';
import { Reservation, WalletLeasesService } from '@switchyard/wallets';
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
  /** max output tokens fixed by the client, per choice; null lets the gateway cap it at what the balance pays */
  clientMaxOutput: number | null;
  /** choices the upstream generates (`n`), each up to the output limit; 1 when absent */
  choices?: number;
  /** embeddings and other requests without generated tokens */
  noOutput?: boolean;
}

export interface Admission {
  requestId: string;
  key: KeyContext;
  attempts: Attempt[];
  /** the request's worst case, set aside from the lease (null for free models) */
  held: Reservation | null;
  /** set when the client gave no max tokens and the balance pays for fewer than the model's maximum */
  outputCap: number | null;
  rateHeaders: Record<string, string>;
  /** what the limits check reserved, replaced by the metered usage when the request finishes */
  limits: LimitReservation | null;
  call: GatewayCall;
}

@Injectable()
export class GatewayPipeline implements BeforeApplicationShutdown {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly catalog: CatalogService,
    private readonly allowlists: AllowlistsService,
    private readonly limits: LimitsService,
    private readonly leases: WalletLeasesService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async admit(i: AdmitInput): Promise<Admission> {
    i.call.key = i.key;
    i.call.modelRequested = i.requestedName;
    this.allowlists.assertAllowed(i.key, i.model, i.requestedName);
    const attempts = planAttempts(i.model, this.catalog, { allowed: (m) => this.allowlists.allows(i.key, m) });

    // worst case over every model the plan may use (a fallback may cost more than the primary); the
    // output limit is per choice, so n choices may produce n times as much
    const models = [...new Set(attempts.map((a) => a.model))];
    if (!models.length) models.push(i.model);
    const choices = i.noOutput ? 0 : Math.max(1, i.choices ?? 1);
    const maxOut = i.noOutput ? 0 : (i.clientMaxOutput ?? maxOutputOf(i.model));
    // a prompt cannot be billed beyond the model's context window (the upstream refuses longer ones)
    const inputOf = (m: ResolvedModel) =>
      i.noOutput || !m.capabilities.context_length
        ? i.inputTokens
        : Math.min(i.inputTokens, m.capabilities.context_length);
    let worst = 0n;
    let minimum = 0n;
    for (const m of models) {
      const w = costOf(m.price, { inputTokens: inputOf(m), outputTokens: maxOut * choices });
      const least =
        i.clientMaxOutput !== null || i.noOutput
          ? w
          : costOf(m.price, { inputTokens: inputOf(m), outputTokens: choices });
      if (w > worst) worst = w;
      if (least > minimum) minimum = least;
    }
    // one round trip: rpm, the per-IP net and daily caps, with the estimated tokens and worst case
    // reserved against tpm and daily spend (record() in finish() puts the metered usage in their place)
    const counted = i.call.limits;
    const { headers, reservation } = await this.limits.check(i.key, i.req.ip ?? '', {
      countRequest: !counted?.checked,
      ipCounted: counted?.ipCounted,
      admission: { tokens: i.inputTokens + maxOut * choices, spend: worst },
    });
    if (counted) counted.checked = true;
    let held: Reservation | null;
    try {
      held = await this.leases.reserve(i.key.workspaceId, worst, minimum);
    } catch (e) {
      // refused for funds (402) or the wallet store is away (503): the tokens and spend set aside go
      // back; the rpm place stays used, or a client without funds could hammer at no cost
      this.limits.release(reservation);
      throw withRateHeaders(e, headers);
    }
    i.call.settlement = new Promise<bigint>((resolve) => (i.call.settle = resolve));
    let outputCap: number | null = null;
    if (held && i.clientMaxOutput === null && !i.noOutput && held.amount < worst) {
      // what the reservation pays for, shared by the n choices
      const perChoice = (m: ResolvedModel) =>
        Math.floor(affordableOutputTokens(m.price, inputOf(m), held.amount) / choices);
      outputCap = Math.max(1, Math.min(...models.map(perChoice)));
    }
    return {
      requestId: i.req.id,
      key: i.key,
      attempts,
      held,
      outputCap,
      rateHeaders: headers,
      limits: reservation,
      call: i.call,
    };
  }

  /**
   * Ends a request: the exact cost of what was produced, charged against its reservation (at once, in
   * memory; the lease posts it within LEASE_FLUSH_MS). A vanished client (`capAtHold`) pays for what
   * was produced, never more than its reservation. A request with no usage just returns its reservation.
   * Returns the amount charged. Calling it twice does nothing the second time.
   */
  async finish(
    adm: Admission,
    served: ResolvedModel | undefined,
    usage: MeteredUsage | undefined,
    opts: { capAtHold?: boolean } = {},
  ): Promise<bigint> {
    if (adm.call.charged) return adm.call.charged;
    const cost = served && usage ? costOf(served.price, usage) : 0n;
    const charged = adm.held ? this.leases.finish(adm.held, cost, opts.capAtHold) : 0n;
    if (!adm.held && cost > 0n)
      this.logger.error({ req_id: adm.requestId }, 'a priced request ran without a reservation');
    adm.call.usage = usage;
    adm.call.charged = Promise.resolve(charged);
    adm.call.settle?.(adm.call.charged);
    const tokens = usage ? usage.inputTokens + usage.outputTokens : 0;
    if (adm.limits || tokens) this.track(this.limits.record(adm.key, { tokens, spend: charged }, adm.limits));
    return charged;
  }

  /** Returns the reservation of a request that produced nothing (upstream failure, client gone before a byte). */
  release(adm: Admission): void {
    void this.finish(adm, undefined, undefined);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Graceful stop: the limit counters of finished requests are recorded before the pools close. */
  async beforeApplicationShutdown(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }
}

/** Errors raised after the limits check carry its headers: every limited response has them. */
function withRateHeaders(e: unknown, headers: Record<string, string>): unknown {
  if (e instanceof GatewayError) for (const [k, v] of Object.entries(headers)) e.headers[k] ??= v;
  return e;
}

export function maxOutputOf(m: ResolvedModel): number {
  return m.capabilities.max_output_tokens ?? DEFAULT_MAX_OUTPUT;
}
