import OpenAI from 'openai';
import { AdminClient, createTenant } from './helpers/admin-client';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, TestStack } from './helpers/test-stack';

describe('smoke: a key made through the admin API gets answers', () => {
  let stack: TestStack;
  let admin: AdminClient;

  beforeAll(async () => {
    stack = await startStack();
    admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  afterAll(() => stack.close());

  it('answers a chat completion through the OpenAI SDK', async () => {
    const t = await createTenant(admin);
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: t.key });
    const r = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello smoke test' }],
    });
    expect(r.choices[0].message.content).toContain('Demo reply to "Hello smoke test"');
  });
});
