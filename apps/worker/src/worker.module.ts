// The worker app: BullMQ processors for background sweeps now, and for async media jobs (video,
// music) later. Runs inside `npm start` or alone (apps/worker/main.ts) to scale apart from the gateway.
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { AppConfig } from '@switchyard/core';
import { WalletsModule } from '@switchyard/wallets';
import { MAINTENANCE_QUEUE, MaintenanceProcessor, MaintenanceScheduler } from './maintenance.processor';

export function bullConnection(config: AppConfig) {
  const u = new URL(config.redisUrl);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfig],
      // a {hash tag} prefix keeps each queue's keys in one Redis Cluster slot
      useFactory: (config: AppConfig) => ({
        connection: bullConnection(config),
        prefix: `{${config.redisPrefix}bull}`,
      }),
    }),
    BullModule.registerQueue({ name: MAINTENANCE_QUEUE }),
    WalletsModule,
  ],
  providers: [MaintenanceProcessor, MaintenanceScheduler],
})
export class WorkerModule {}
