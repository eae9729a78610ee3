import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TenancyModule } from '@switchyard/tenancy';
import { AdminAuthGuard, AdminBearerStrategy, AdminLocalStrategy, AdminLoginGuard } from './admin-auth.strategies';
import { AdminTokensService } from './admin-tokens.service';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeysService } from './api-keys.service';
import { AdminToken } from './entities/admin-token.entity';
import { ApiKey } from './entities/api-key.entity';
import { FirstAdminService } from './first-admin.service';
import { KeyAuthService } from './key-auth.service';

@Module({
  imports: [TypeOrmModule.forFeature([ApiKey, AdminToken]), PassportModule, TenancyModule],
  providers: [
    KeyAuthService,
    ApiKeyGuard,
    ApiKeysService,
    AdminTokensService,
    AdminLocalStrategy,
    AdminBearerStrategy,
    AdminLoginGuard,
    AdminAuthGuard,
  ],
  exports: [
    KeyAuthService,
    ApiKeyGuard,
    ApiKeysService,
    AdminTokensService,
    AdminLoginGuard,
    AdminAuthGuard,
    TenancyModule,
  ],
})
export class AuthModule {}

/** Only the admin app creates the first admin (one place, once). */
@Module({ imports: [AuthModule], providers: [FirstAdminService] })
export class FirstAdminModule {}
