// Public face of libs/wallets: the ledger, holds, recharges and transfers (Stripe top-ups: stripe/).
export * from './entities/account.entity';
export * from './entities/ledger-transaction.entity';
export * from './entities/ledger-entry.entity';
export * from './entities/hold.entity';
export * from './ledger.repository';
export * from './lease.repository';
export * from './wallet-leases.service';
export * from './wallets.service';
export * from './wallets.module';
export * from './stripe/stripe.service';
