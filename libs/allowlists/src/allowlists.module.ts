import { Module } from '@nestjs/common';
import { CatalogModule } from '@switchyard/catalog';
import { AllowlistsService } from './allowlists.service';

/** Needs the catalog to judge grants made by a model's id, alias or provider-prefixed name. */
@Module({ imports: [CatalogModule], providers: [AllowlistsService], exports: [AllowlistsService] })
export class AllowlistsModule {}
