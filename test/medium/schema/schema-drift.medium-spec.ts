// CI fails when entities and migrations drift: TypeORM compares the entities with the database the real
// migrations built and lists the SQL it would run to reconcile them; that list must be empty.
import { DataSource } from 'typeorm';
import { AdminToken, ApiKey } from '@switchyard/auth';
import { Model, Provider } from '@switchyard/catalog';
import { AdminUser, Agent, Workspace } from '@switchyard/tenancy';
import { Account, Hold, LedgerEntry, LedgerTransaction } from '@switchyard/wallets';
import { freshDatabase } from '../../setup/test-db';

const ENTITIES = [
  Agent,
  AdminUser,
  Workspace,
  ApiKey,
  AdminToken,
  Provider,
  Model,
  Account,
  LedgerTransaction,
  LedgerEntry,
  Hold,
];

describe('schema: entities match the migrations', () => {
  it('has nothing to change', async () => {
    const db = await freshDatabase();
    const ds = new DataSource({ type: 'postgres', url: db.url, entities: ENTITIES });
    await ds.initialize();
    try {
      const log = await ds.driver.createSchemaBuilder().log();
      const queries = log.upQueries.map((q) => q.query);
      expect(queries).toEqual([]);
    } finally {
      await ds.destroy();
      await db.drop();
    }
  });
});
