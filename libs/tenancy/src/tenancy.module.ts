import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminUser } from './entities/admin-user.entity';
import { Agent } from './entities/agent.entity';
import { Workspace } from './entities/workspace.entity';
import { RolesGuard } from './roles.guard';
import { TenancyService } from './tenancy.service';

@Module({
  imports: [TypeOrmModule.forFeature([Agent, AdminUser, Workspace])],
  providers: [TenancyService, RolesGuard],
  exports: [TenancyService, RolesGuard, TypeOrmModule],
})
export class TenancyModule {}
