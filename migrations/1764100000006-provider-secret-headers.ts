import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Provider headers move out of `quirks` into `secret_headers`, sealed with MASTER_KEY. SQL cannot
 * encrypt (the key is not the database's), so the catalog seals any headers still in quirks when it
 * starts (CatalogService.sealPlainHeaders); this only adds the column.
 */
export class ProviderSecretHeaders1764100000006 implements MigrationInterface {
  name = 'ProviderSecretHeaders1764100000006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE providers ADD COLUMN secret_headers jsonb NOT NULL DEFAULT '{}'`);
  }

  async down(q: QueryRunner): Promise<void> {
    // sealed values cannot go back to clear here: the headers are dropped and must be set again
    await q.query(`ALTER TABLE providers DROP COLUMN secret_headers`);
  }
}
