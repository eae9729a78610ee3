import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Account } from './entities/account.entity';
import { Hold } from './entities/hold.entity';
import { LedgerEntry } from './entities/ledger-entry.entity';
import { LedgerTransaction } from './entities/ledger-transaction.entity';
import { LedgerRepository } from './ledger.repository';
import { StripeService } from './stripe/stripe.service';
import { WalletsService } from './wallets.service';

@Module({
  imports: [TypeOrmModule.forFeature([Account, LedgerTransaction, LedgerEntry, Hold])],
  providers: [LedgerRepository, WalletsService, StripeService],
  exports: [WalletsService, LedgerRepository, StripeService],
})
export class WalletsModule {}
