// The first platform admin, at first start: from ADMIN_EMAIL/ADMIN_PASSWORD, or with a generated
// password printed once.
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig, LOGGER, Logger, randomBase62 } from '@switchyard/core';
import { TenancyService } from '@switchyard/tenancy';

@Injectable()
export class FirstAdminService implements OnApplicationBootstrap {
  constructor(
    private readonly tenancy: TenancyService,
    private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if ((await this.tenancy.countPlatformAdmins()) > 0) return;
    const email = this.config.adminEmail ?? 'admin@switchyard.local';
    const password = this.config.adminPassword ?? randomBase62(20);
    try {
      await this.tenancy.createPlatformAdmin(email, password);
    } catch (e) {
      if ((e as { code?: string }).code === '23505') return; // another process created it first
      throw e;
    }
    if (this.config.adminPassword) {
      this.logger.info({ email }, 'created the first platform admin from ADMIN_EMAIL / ADMIN_PASSWORD');
    } else {
      // Printed once, on purpose, outside the JSON log stream (the only copy of this password).
      process.stdout.write(
        `\n  First platform admin created: ${email}\n  Password (shown once, change it or set ADMIN_PASSWORD): ${password}\n\n`,
      );
    }
  }
}
