import { Module } from '@nestjs/common';
import { AllowlistsModule } from '@switchyard/allowlists';
import { AuthModule } from '@switchyard/auth';
import { CatalogModule } from '@switchyard/catalog';
import { LimitsModule } from '@switchyard/limits';
import { RoutingModule } from '@switchyard/routing';
import { UsageModule } from '@switchyard/usage';
import { WalletsModule } from '@switchyard/wallets';
import { GatewayAuthGuard } from './gateway-auth.guard';
import { GatewayPipeline } from './pipeline.service';

/** Everything a /v1 capability needs to run a request through the pipeline. */
@Module({
  imports: [AuthModule, CatalogModule, AllowlistsModule, LimitsModule, RoutingModule, WalletsModule, UsageModule],
  providers: [GatewayPipeline, GatewayAuthGuard],
  exports: [
    GatewayPipeline,
    GatewayAuthGuard,
    AuthModule,
    CatalogModule,
    AllowlistsModule,
    LimitsModule,
    RoutingModule,
    WalletsModule,
    UsageModule,
  ],
})
export class PipelineModule {}
