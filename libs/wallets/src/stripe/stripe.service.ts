// Stripe top-ups with the official package: Checkout Sessions for a workspace, and the webhook that
// credits a paid session exactly once (the ledger reference is the session id; replays, retries and
// out-of-order events all land on the same reference).
import { Inject, Injectable } from '@nestjs/common';
import Stripe from 'stripe';
import { DataSource } from 'typeorm';
import { AppConfig, GatewayError, LOGGER, Logger, minorUnitsToNanos, nanosToMinorUnits } from '@switchyard/core';
import { WalletsService } from '../wallets.service';

const CREDITING_EVENTS = new Set(['checkout.session.completed', 'checkout.session.async_payment_succeeded']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class StripeService {
  private client?: Stripe;

  constructor(
    private readonly config: AppConfig,
    private readonly wallets: WalletsService,
    private readonly db: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get configured(): boolean {
    return !!this.config.stripe.secretKey;
  }

  private stripe(): Stripe {
    if (!this.config.stripe.secretKey)
      throw new GatewayError('service_unavailable', 'Stripe is not configured on this deployment (STRIPE_SECRET_KEY).');
    if (!this.client) {
      const api = this.config.stripe.apiUrl ? new URL(this.config.stripe.apiUrl) : undefined;
      this.client = new Stripe(this.config.stripe.secretKey, {
        maxNetworkRetries: 2,
        timeout: 20_000,
        ...(api
          ? {
              host: api.hostname,
              port: Number(api.port || (api.protocol === 'https:' ? 443 : 80)),
              protocol: api.protocol.replace(':', '') as 'http' | 'https',
            }
          : {}),
      });
    }
    return this.client;
  }

  async createCheckout(workspaceId: string, amount: bigint): Promise<{ id: string; url: string | null }> {
    let minor: bigint;
    try {
      minor = nanosToMinorUnits(amount, this.config.currency);
    } catch {
      throw new GatewayError(
        'bad_request',
        `amount must be a whole number of ${this.config.currency} minor units`,
        'amount',
      );
    }
    if (minor <= 0n) throw new GatewayError('bad_request', 'amount must be greater than zero', 'amount');
    const base = this.config.publicUrl;
    const session = await this.stripe().checkout.sessions.create({
      mode: 'payment',
      client_reference_id: workspaceId,
      metadata: { workspace_id: workspaceId },
      line_items: [
        {
          quantity: 1,
          price_data: {
            currency: this.config.currency.toLowerCase(),
            unit_amount: Number(minor),
            product_data: { name: 'Switchyard credit' },
          },
        },
      ],
      success_url: `${base}/admin/billing/success?session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${base}/admin/billing/cancelled`,
    });
    return { id: session.id, url: session.url };
  }

  /** Verifies the signature on the raw body (400 when wrong), then credits paid sessions once. */
  async handleWebhook(
    raw: Buffer | undefined,
    signature: string | undefined,
  ): Promise<{ received: true; credited?: boolean; duplicate?: boolean }> {
    const secret = this.config.stripe.webhookSecret;
    if (!secret)
      throw new GatewayError(
        'service_unavailable',
        'Stripe webhooks are not configured on this deployment (STRIPE_WEBHOOK_SECRET).',
      );
    if (!raw || !signature) throw new GatewayError('bad_request', 'Missing Stripe-Signature header or body.');
    let event: Stripe.Event;
    try {
      event = Stripe.webhooks.constructEvent(raw, signature, secret);
    } catch {
      throw new GatewayError('bad_request', 'Invalid Stripe signature.');
    }
    const seen = (await this.db.query(`SELECT 1 FROM stripe_events WHERE id = $1`, [event.id])) as unknown[];
    if (seen.length) return { received: true, duplicate: true };
    let credited = false;
    // recorded as processed only once handled: an error above answers 500 and Stripe delivers it again
    if (CREDITING_EVENTS.has(event.type))
      credited = await this.creditSession(event.data.object as Stripe.Checkout.Session);
    await this.db.query(`INSERT INTO stripe_events (id, type) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, [
      event.id,
      event.type,
    ]);
    return { received: true, credited };
  }

  private async creditSession(s: Stripe.Checkout.Session): Promise<boolean> {
    if (s.payment_status !== 'paid') return false; // async methods: credited on async_payment_succeeded
    const workspaceId = s.metadata?.workspace_id ?? s.client_reference_id;
    if (!workspaceId || typeof s.amount_total !== 'number' || s.amount_total <= 0) {
      this.logger.warn({ session: s.id }, 'stripe session without workspace or amount: ignored');
      return false;
    }
    if ((s.currency ?? '').toUpperCase() !== this.config.currency) {
      this.logger.error({ session: s.id, currency: s.currency }, 'stripe session in another currency: not credited');
      return false;
    }
    // a lookup that fails must fail the delivery (500: Stripe retries it), never pass for "unknown
    // workspace", which would record the event as handled and lose a paid top-up
    const exists = UUID.test(workspaceId)
      ? ((await this.db.query(`SELECT 1 FROM workspaces WHERE id = $1`, [workspaceId])) as unknown[])
      : [];
    if (!exists.length) {
      this.logger.error({ session: s.id }, 'stripe session for an unknown workspace: not credited');
      return false;
    }
    const amount = minorUnitsToNanos(s.amount_total, this.config.currency);
    const r = await this.wallets.creditStripe(workspaceId, amount, s.id, {
      stripe_session: s.id,
      payment_intent: s.payment_intent ?? null,
    });
    if (r.created) this.logger.info({ session: s.id, workspace_id: workspaceId }, 'stripe top-up credited');
    return r.created;
  }
}
