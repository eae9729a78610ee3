import { dropDatabase } from './test-db';

export default async function globalTeardown(): Promise<void> {
  const tpl = process.env.SY_TEST_TEMPLATE_DB;
  if (tpl) await dropDatabase(tpl);
}
