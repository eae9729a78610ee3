import { mapError } from './errors';
import { fixture } from './test-util';

describe('gemini mapError', () => {
  it.each([
    [429, 'error-429-resource-exhausted.json'],
    [500, undefined],
    [503, 'error-503-unavailable.json'],
    [
      504,
      {
        error: { code: 504, message: 'Deadline expired before operation could complete.', status: 'DEADLINE_EXCEEDED' },
      },
    ],
    [408, 'timeout'],
  ])('marks %s retryable upstream_error', (status, body) => {
    const info = mapError(status, typeof body === 'string' && body.endsWith('.json') ? fixture(body) : body);
    expect(info).toMatchObject({ retryable: true, code: 'upstream_error' });
  });

  it('keeps quota details and links out of a 429', () => {
    const info = mapError(429, fixture('error-429-resource-exhausted.json'));
    expect(info.message).not.toMatch(/quota|billing|https?:/i);
  });

  it('passes a 400 on as bad_request with the message sanitized', () => {
    const info = mapError(400, fixture('error-400-invalid-argument.json'));
    expect(info).toMatchObject({ retryable: false, code: 'bad_request' });
    expect(info.message).toContain('Unknown name "foo"');
    expect(info.message).not.toMatch(/AIza|googleapis\.com|https?:|10\.12\.0\.7/);
  });

  it('passes a 404 (unknown upstream model) on as bad_request', () => {
    const info = mapError(404, fixture('error-404-model-not-found.json'));
    expect(info).toMatchObject({ retryable: false, code: 'bad_request' });
    expect(info.message).toContain('is not found');
  });

  it.each([
    [
      401,
      { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } },
    ],
    [403, 'error-403-permission-denied.json'],
    [400, 'error-400-api-key-invalid.json'],
  ])('answers %s credential failures with a generic message', (status, body) => {
    const info = mapError(status, typeof body === 'string' ? fixture(body) : body);
    expect(info).toEqual({
      retryable: false,
      code: 'upstream_error',
      message: "the upstream provider refused the gateway's credentials",
    });
  });

  it('treats 400 FAILED_PRECONDITION (account or region) as a route failure another route may avoid', () => {
    expect(mapError(400, fixture('error-400-failed-precondition.json'))).toMatchObject({
      retryable: true,
      code: 'upstream_error',
    });
  });

  it('copes with non-Gemini bodies', () => {
    expect(mapError(502, '<html>Bad Gateway</html>')).toMatchObject({ retryable: true, code: 'upstream_error' });
    expect(mapError(400, null)).toMatchObject({ retryable: false, code: 'bad_request' });
    expect(mapError(409, { nope: 1 })).toMatchObject({ retryable: false, code: 'upstream_error' });
  });
});
