import { anthropicJson } from '../../../../test/fixtures/anthropic/load';
import { anthropicChat } from './index';

const { mapError } = anthropicChat;

describe('anthropic mapError', () => {
  it.each([
    [429, 'error-rate-limit.json'],
    [529, 'error-overloaded.json'],
    [500, 'error-overloaded.json'],
    [503, undefined],
    [408, undefined],
  ])('%i is a retryable upstream_error', (status, fixture) => {
    const info = mapError(status, fixture ? anthropicJson(fixture) : undefined);
    expect(info).toMatchObject({ retryable: true, code: 'upstream_error' });
    expect(info.message).not.toBe('');
  });

  it.each([400, 404, 413, 422])('%i is a bad_request carrying Anthropic’s message', (status) => {
    const info = mapError(status, anthropicJson('error-invalid-request.json'));
    expect(info).toEqual({
      retryable: false,
      code: 'bad_request',
      message:
        'max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-5-20250929',
    });
  });

  it('reads the message from a JSON string body too', () => {
    expect(mapError(404, JSON.stringify(anthropicJson('error-not-found.json'))).message).toBe(
      'model: claude-nonexistent',
    );
  });

  it('falls back on a generic message for an empty or HTML body', () => {
    expect(mapError(400, '<html>Bad Request</html>').message).toBe('the upstream provider rejected the request');
    expect(mapError(400, undefined).message).toBe('the upstream provider rejected the request');
  });

  it.each([401, 403])('%i never repeats the upstream text (it quotes the key)', (status) => {
    const info = mapError(status, anthropicJson('error-authentication.json'));
    expect(info).toEqual({
      retryable: false,
      code: 'upstream_error',
      message: "the upstream provider refused the gateway's credentials",
    });
  });

  it('strips keys, URLs, IPs and hosts from messages it repeats', () => {
    const { message } = mapError(400, anthropicJson('error-leaky-proxy.json'));
    expect(message).not.toMatch(/sk-ant|10\.0\.3\.7|http|proxy\.internal|fe80/);
    expect(message).toContain('rejected key');
  });

  it('treats other statuses as non-retryable upstream errors', () => {
    expect(mapError(402, {})).toMatchObject({ retryable: false, code: 'upstream_error' });
  });
});

describe('messages repeated from Anthropic', () => {
  it('keep field paths, model names and times intact', () => {
    const m = 'messages.0.content.1.image.source: bad at 12:30:45 for claude-3-5-sonnet-20241022';
    expect(mapError(400, { type: 'error', error: { type: 'invalid_request_error', message: m } }).message).toBe(m);
  });
});
