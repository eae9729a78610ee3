// Every migration in order. Listed explicitly (no glob) so the same list runs from TypeScript in tests
// and from the compiled build in production.
import { CreateTenancyAndKeys1764100000000 } from './1764100000000-create-tenancy-and-keys';
import { CreateCatalog1764100000001 } from './1764100000001-create-catalog';
import { CreateLedger1764100000002 } from './1764100000002-create-ledger';
import { CreateUsageLog1764100000003 } from './1764100000003-create-usage-log';
import { CreateIdempotencyAndStripeEvents1764100000004 } from './1764100000004-create-idempotency-and-stripe-events';
import { HoldsForWalletLeases1764100000005 } from './1764100000005-holds-for-wallet-leases';
import { ProviderSecretHeaders1764100000006 } from './1764100000006-provider-secret-headers';

export const MIGRATIONS = [
  CreateTenancyAndKeys1764100000000,
  CreateCatalog1764100000001,
  CreateLedger1764100000002,
  CreateUsageLog1764100000003,
  CreateIdempotencyAndStripeEvents1764100000004,
  HoldsForWalletLeases1764100000005,
  ProviderSecretHeaders1764100000006,
];
