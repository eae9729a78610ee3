import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Account } from './entities/account.entity';
import { Hold } from './entities/hold.entity';
import { LedgerEntry } from './entities/ledger-entry.entity';
import { LedgerTransaction } from './entities/ledger-transaction.entity';
import { LeaseRepository } from './lease.repository';
import { LedgerRepository } from './ledger.repository';
import { WalletLeasesService } from './wallet-leases.service';
import { StripeService } from './stripe/stripe.service';
import { WalletsService } from './wallets.service';

@Module({
  imports: [TypeOrmModule.forFeature([Account, LedgerTransaction, LedgerEntry, Hold])],
  providers: [LedgerRepository, LeaseRepository, WalletsService, WalletLeasesService, StripeService],
  exports: [WalletsService, WalletLeasesService, LedgerRepository, LeaseRepository, StripeService],
})
export class WalletsModule {}
