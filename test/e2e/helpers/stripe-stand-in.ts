// A small local stand-in for the part of Stripe's API that Switchyard calls: POST /v1/checkout/sessions.
// It reads the form-encoded body the official `stripe` package sends, answers with a Checkout Session
// shaped as Stripe's (id cs_test_..., url, amount_total, currency, metadata, client_reference_id) and
// records every request, so tests can check what reached "Stripe". Plain node:http, no dependencies.
import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StripeRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** the form body as sent, e.g. `metadata[workspace_id]`, `line_items[0][price_data][unit_amount]` */
  form: Record<string, string>;
}

export interface CheckoutSession {
  id: string;
  object: 'checkout.session';
  amount_subtotal: number;
  amount_total: number;
  cancel_url: string | null;
  client_reference_id: string | null;
  created: number;
  currency: string;
  customer: string | null;
  expires_at: number;
  livemode: false;
  metadata: Record<string, string>;
  mode: string;
  payment_intent: string | null;
  payment_status: 'paid' | 'unpaid' | 'no_payment_required';
  status: 'open' | 'complete' | 'expired';
  success_url: string | null;
  url: string | null;
}

export interface StripeStandIn {
  url: string;
  requests: StripeRequest[];
  /** sessions created, by id */
  sessions: Map<string, CheckoutSession>;
  close(): Promise<void>;
}

function stripeError(res: ServerResponse, status: number, type: string, message: string, param?: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${randomBytes(7).toString('hex')}` });
  res.end(JSON.stringify({ error: { type, message, ...(param ? { param } : {}) } }));
}

/** Sum of quantity * unit_amount over `line_items[i]` of a form body. */
function amountOf(form: Record<string, string>): number {
  let total = 0;
  for (let i = 0; form[`line_items[${i}][quantity]`] !== undefined; i++) {
    total +=
      Number(form[`line_items[${i}][quantity]`]) * Number(form[`line_items[${i}][price_data][unit_amount]`] ?? 0);
  }
  return total;
}

export async function startStripeStandIn(): Promise<StripeStandIn> {
  const requests: StripeRequest[] = [];
  const sessions = new Map<string, CheckoutSession>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      requests.push({ method: req.method ?? '', path, headers: req.headers, form });
      if (!/^Bearer sk_(test|live)_\S+$/.test(String(req.headers.authorization ?? ''))) {
        return stripeError(res, 401, 'invalid_request_error', 'Invalid API Key provided.');
      }
      if (req.method === 'POST' && path === '/v1/checkout/sessions') {
        if (!form.mode) return stripeError(res, 400, 'invalid_request_error', 'Missing required param: mode.', 'mode');
        if (form['line_items[0][price_data][currency]'] === undefined) {
          return stripeError(
            res,
            400,
            'invalid_request_error',
            'Missing required param: line_items[0][price_data][currency].',
            'line_items',
          );
        }
        const id = `cs_test_${randomBytes(24).toString('base64url')}`;
        const amount = amountOf(form);
        const metadata: Record<string, string> = {};
        for (const [k, v] of Object.entries(form)) {
          const m = /^metadata\[(.+)\]$/.exec(k);
          if (m) metadata[m[1]] = v;
        }
        const now = Math.floor(Date.now() / 1000);
        const session: CheckoutSession = {
          id,
          object: 'checkout.session',
          amount_subtotal: amount,
          amount_total: amount,
          cancel_url: form.cancel_url ?? null,
          client_reference_id: form.client_reference_id ?? null,
          created: now,
          currency: form['line_items[0][price_data][currency]'],
          customer: null,
          expires_at: now + 24 * 3600,
          livemode: false,
          metadata,
          mode: form.mode,
          payment_intent: null,
          payment_status: 'unpaid',
          status: 'open',
          success_url: form.success_url ? form.success_url.replace('{CHECKOUT_SESSION_ID}', id) : null,
          url: `https://checkout.stripe.com/c/pay/${id}#stand-in`,
        };
        sessions.set(id, session);
        res.writeHead(200, {
          'content-type': 'application/json',
          'request-id': `req_${randomBytes(7).toString('hex')}`,
          'stripe-version': String(req.headers['stripe-version'] ?? ''),
        });
        res.end(JSON.stringify(session));
        return;
      }
      stripeError(res, 404, 'invalid_request_error', `Unrecognized request URL (${req.method}: ${path}).`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
