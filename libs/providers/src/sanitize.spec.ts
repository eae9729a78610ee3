import { redactKnown, redactKnownDeep, sanitizeMessage } from './sanitize';

describe('sanitizeMessage', () => {
  it.each([
    ['Incorrect API key provided: sk-proj-abcdefghijklmnop1234', 'sk-proj-'],
    ['key AIzaSyA1234567890abcdefghij is invalid', 'AIza'],
    ['key=AIzaSyA1234567890abcdefghijklmnopqrstuv done', 'AIza'],
    ['token ya29.a0AfH6SMB-secret', 'ya29'],
    ['could not reach http://10.0.0.12:8000/v1/chat/completions', '10.0.0.12'],
    ['see https://generativelanguage.googleapis.com/v1beta/x?key=1', 'https'],
    ['upstream api.internal-llm.corp refused', 'internal-llm'],
    ['host internal-gw.corp:8080 refused', 'internal-gw'],
    ['connect ECONNREFUSED 127.0.0.1:11434', '127.0.0.1'],
    ['from 192.168.1.20:443', '192.168'],
    ['Authorization: Bearer abcdefghijklmnop', 'abcdefghijklmnop'],
    ['host [fe80::1ff:fe23:4567:890a] down', 'fe80'],
    ['from [2001:db8::1]:443', '2001'],
    // what the denylist of hosts and key prefixes let through
    ['vllm-gpu-3:8000 is not answering', 'vllm-gpu-3'],
    ['no route to api.mycompany.co.uk', 'mycompany'],
    ['served by qwen.default.svc.cluster.local', 'qwen.default'],
    ['key upstream-qwen-secret was refused', 'upstream-qwen-secret'],
    ['signed with AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
    ['{"api_key": "hunter2-long-value"} rejected', 'hunter2'],
    ['session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N expired', 'eyJhbGci'],
    ['opaque 9f8e7d6c5b4a39281706f5e4d3c2b1a0aa55bb66 refused', '9f8e7d6c5b4a'],
    ['ask ops@mycompany.example for access', 'ops@'],
    ['proxy route /_k/status=400/v1/chat/completions failed', '/_k/'],
    ['file /var/lib/vllm/models/qwen.bin missing', '/var/lib'],
  ])('removes secrets and locations from %j', (input, leaked) => {
    expect(sanitizeMessage(input)).not.toContain(leaked);
  });

  it.each([
    "max_tokens is too large: 99999. This model's maximum is 16384.",
    'messages.0.content.0.text: Field required',
    'Unknown name "x" at \'generation_config.response_schema\': Cannot find field at 12:30:45.',
    '* GenerateContentRequest.contents: contents is not specified',
    "Invalid 'tools[0].function.name': string does not match pattern.",
    'max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-5-20250929',
    'models/gemini-2.5-flash is not found for API version v1beta, e.g. in file.json',
  ])('keeps ordinary text and field paths: %j', (text) => {
    expect(sanitizeMessage(text)).toBe(text);
  });

  it('bounds the length and folds whitespace', () => {
    expect(sanitizeMessage('x '.repeat(2000)).length).toBeLessThanOrEqual(503);
    expect(sanitizeMessage('a \n\t b')).toBe('a b');
  });

  it('redacts known values (the route key and address) whatever they look like', () => {
    const known = ['plainkey', 'gpu-box', 'gpu-box:9000'];
    expect(sanitizeMessage('refused plainkey from GPU-BOX:9000 (gpu-box)', { known })).toBe(
      'refused [redacted] from [redacted] ([redacted])',
    );
    // too short to be told apart from ordinary text
    expect(redactKnown('v1 of the api', ['v1'])).toBe('v1 of the api');
    expect(redactKnownDeep({ error: { message: 'k=plainkey', list: ['plainkey'] }, n: 1 }, known)).toEqual({
      error: { message: 'k=[redacted]', list: ['[redacted]'] },
      n: 1,
    });
  });
});
