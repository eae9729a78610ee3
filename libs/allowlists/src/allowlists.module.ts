import { Module } from '@nestjs/common';
import { AllowlistsService } from './allowlists.service';

@Module({ providers: [AllowlistsService], exports: [AllowlistsService] })
export class AllowlistsModule {}
