// The admin API (/admin/api): tenancy, keys, wallets, catalog, usage, billing. The web console (issue:
// admin console) will be served from here too and talks only to these routes.
import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AllowlistsModule } from '@switchyard/allowlists';
import { AuthModule, FirstAdminModule } from '@switchyard/auth';
import { CatalogModule } from '@switchyard/catalog';
import { LimitsModule, RedisThrottlerStorage } from '@switchyard/limits';
import { TenancyModule } from '@switchyard/tenancy';
import { UsageModule } from '@switchyard/usage';
import { WalletsModule } from '@switchyard/wallets';
import { AgentsController } from './controllers/agents.controller';
import { AuthController } from './controllers/auth.controller';
import { BillingController, StripeWebhookController } from './controllers/billing.controller';
import { CatalogController } from './controllers/catalog.controller';
import { KeysController } from './controllers/keys.controller';
import { UsageController } from './controllers/usage.controller';
import { WalletsController } from './controllers/wallets.controller';
import { WorkspacesController } from './controllers/workspaces.controller';

@Module({
  imports: [
    AuthModule,
    FirstAdminModule,
    TenancyModule,
    WalletsModule,
    CatalogModule,
    AllowlistsModule,
    UsageModule,
    ThrottlerModule.forRootAsync({
      imports: [LimitsModule],
      inject: [RedisThrottlerStorage],
      useFactory: (storage: RedisThrottlerStorage) => ({ throttlers: [{ limit: 10, ttl: 60_000 }], storage }),
    }),
  ],
  controllers: [
    AuthController,
    AgentsController,
    WorkspacesController,
    KeysController,
    WalletsController,
    CatalogController,
    UsageController,
    BillingController,
    StripeWebhookController,
  ],
})
export class AdminModule {}
