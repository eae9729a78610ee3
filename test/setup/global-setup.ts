// Runs once per jest run: migrates a template database that each test file clones (fast, and the
// same real migrations that production runs; never `synchronize`).
import { createTemplateDatabase } from './test-db';

export default async function globalSetup(): Promise<void> {
  if (process.env.SY_TEST_TEMPLATE_DB) return;
  process.env.SY_TEST_TEMPLATE_DB = await createTemplateDatabase();
}
