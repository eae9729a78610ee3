import { randomBytes } from 'node:crypto';
import { GatewayError } from '@switchyard/core';
import { REDACTED, openHeaders, redactedHeaders, sealHeaders } from './provider-headers';

describe('provider headers at rest', () => {
  const key = randomBytes(32);

  it('seals every value, opens them with the same key, and shows only the names', () => {
    const sealed = sealHeaders({ 'api-key': 'azure-secret-123', 'x-org': 'org-1' }, {}, key);
    expect(JSON.stringify(sealed)).not.toContain('azure-secret-123');
    expect(JSON.stringify(sealed)).not.toContain('org-1');
    expect(openHeaders(sealed, key, () => undefined)).toEqual({ 'api-key': 'azure-secret-123', 'x-org': 'org-1' });
    expect(redactedHeaders(sealed)).toEqual({ 'api-key': REDACTED, 'x-org': REDACTED });
    expect(redactedHeaders({})).toBeUndefined();
  });

  it('keeps a stored value sent back redacted, and drops headers left out', () => {
    const stored = sealHeaders({ 'api-key': 'old-secret', 'x-old': 'gone' }, {}, key);
    const next = sealHeaders({ 'api-key': REDACTED, 'x-new': 'fresh' }, stored, key);
    expect(next['api-key']).toBe(stored['api-key']);
    expect(openHeaders(next, key, () => undefined)).toEqual({ 'api-key': 'old-secret', 'x-new': 'fresh' });
  });

  it('refuses a redacted value with nothing stored to keep', () => {
    let err: unknown;
    try {
      sealHeaders({ 'api-key': REDACTED }, {}, key);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).param).toBe('quirks.headers.api-key');
  });

  it('leaves out and reports a header another MASTER_KEY sealed', () => {
    const sealed = sealHeaders({ 'api-key': 'secret' }, {}, randomBytes(32));
    const failed: string[] = [];
    expect(openHeaders(sealed, key, (name) => failed.push(name))).toEqual({});
    expect(failed).toEqual(['api-key']);
  });
});
