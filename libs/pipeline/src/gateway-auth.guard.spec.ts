import { EventEmitter } from 'node:events';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { KeyAuthService } from '@switchyard/auth';
import { AppConfig, GatewayError, InvalidationBus } from '@switchyard/core';
import type { LimitsService } from '@switchyard/limits';
import type { DataSource } from 'typeorm';
import { GatewayAuthGuard, LimitedAtAdmission } from './gateway-auth.guard';
import type { GatewayRequest } from './gateway-call';

const KEY = 'sk-sy-' + 'a'.repeat(40);
const ROW = {
  id: 'k1',
  prefix: 'sk-sy-aaaa',
  workspace_id: 'w1',
  agent_id: 'a1',
  revoked_at: null,
  expires_at: null,
  k_rpm: null,
  k_tpm: null,
  k_daily_requests: null,
  k_daily_spend: null,
  k_allowlist: null,
  w_rpm: null,
  w_tpm: null,
  w_daily_requests: null,
  w_daily_spend: null,
  w_allowlist: null,
  a_allowlist: null,
};

class Handlers {
  @LimitedAtAdmission()
  chat(): void {}
  models(): void {}
}

function setup(opts: { ipBlocked?: boolean } = {}) {
  const db = { query: jest.fn(async (_sql: string, [hash]: string[]) => (hash ? [ROW] : [])) };
  const keys = new KeyAuthService(
    db as unknown as DataSource,
    { keyCacheTtlMs: 10_000 } as AppConfig,
    { on: () => undefined } as unknown as InvalidationBus,
  );
  const refused = new GatewayError('rate_limit_exceeded', 'Too many requests from this IP address.');
  const limits = {
    checkIpOnly: jest.fn(async () => {
      if (opts.ipBlocked) throw refused;
    }),
    check: jest.fn(async () => ({ headers: { 'X-RateLimit-Limit': '60' }, reservation: null })),
  };
  const guard = new GatewayAuthGuard(keys, limits as unknown as LimitsService, new Reflector());
  const request = (handler: 'chat' | 'models', key = KEY) => {
    const res = Object.assign(new EventEmitter(), { headers: {} as Record<string, string> });
    (res as unknown as { setHeader: (k: string, v: string) => void }).setHeader = (k, v) => (res.headers[k] = v);
    const req = { ip: '192.0.2.1', headers: { authorization: `Bearer ${key}` } } as unknown as GatewayRequest;
    const ctx = {
      switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
      getHandler: () => Handlers.prototype[handler],
    } as unknown as ExecutionContext;
    return { req, res, run: () => guard.canActivate(ctx) };
  };
  return { db, limits, request };
}

describe('GatewayAuthGuard', () => {
  it('a key not in the cache from a blocked address: 429 without a database query', async () => {
    const { db, limits, request } = setup({ ipBlocked: true });
    for (let i = 0; i < 3; i++) {
      await expect(request('models', 'sk-sy-' + String(i).repeat(40)).run()).rejects.toMatchObject({
        code: 'rate_limit_exceeded',
      });
    }
    expect(db.query).not.toHaveBeenCalled();
    expect(limits.checkIpOnly).toHaveBeenCalledTimes(3);
  });

  it('a cold key counts against the net before the lookup, and only once; a warm one in the one check', async () => {
    const { db, limits, request } = setup();
    const cold = request('models');
    await expect(cold.run()).resolves.toBe(true);
    expect(limits.checkIpOnly).toHaveBeenCalledTimes(1);
    expect(db.query).toHaveBeenCalledTimes(1);
    expect(limits.check).toHaveBeenLastCalledWith(expect.objectContaining({ keyId: 'k1' }), '192.0.2.1', {
      ipCounted: true,
    });
    // routes that do not admit carry the rate headers of their check
    expect(cold.res.headers['X-RateLimit-Limit']).toBe('60');

    await request('models').run();
    expect(limits.checkIpOnly).toHaveBeenCalledTimes(1);
    expect(db.query).toHaveBeenCalledTimes(1);
    expect(limits.check).toHaveBeenLastCalledWith(expect.anything(), '192.0.2.1', { ipCounted: false });
  });

  it('a bad key counts against the net once (no lookup for a malformed one)', async () => {
    const { db, limits, request } = setup();
    await expect(request('models', 'not-a-key').run()).rejects.toMatchObject({ code: 'invalid_api_key' });
    expect(limits.checkIpOnly).toHaveBeenCalledTimes(1);
    expect(db.query).not.toHaveBeenCalled();
    expect(limits.check).not.toHaveBeenCalled();
  });

  it('leaves routes that admit to their admission, and counts them after the response if they never got there', async () => {
    const { limits, request } = setup();
    await request('models').run(); // warm the key
    limits.check.mockClear();

    const admitted = request('chat');
    await admitted.run();
    expect(limits.check).not.toHaveBeenCalled();
    admitted.req.call!.limits!.checked = true; // what admit() does
    admitted.res.emit('close');
    expect(limits.check).not.toHaveBeenCalled();

    // a 400 or 403 before admission still counts, once
    const early = request('chat');
    await early.run();
    early.res.emit('close');
    expect(limits.check).toHaveBeenCalledTimes(1);
    expect(limits.check).toHaveBeenCalledWith(expect.anything(), '192.0.2.1', { ipCounted: false });
  });
});
