import { Module } from '@nestjs/common';
import { UpstreamRouter } from './upstream-router.service';

@Module({ providers: [UpstreamRouter], exports: [UpstreamRouter] })
export class RoutingModule {}
