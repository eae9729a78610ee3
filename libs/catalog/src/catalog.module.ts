import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogService } from './catalog.service';
import { Model } from './entities/model.entity';
import { Provider } from './entities/provider.entity';

@Module({
  imports: [TypeOrmModule.forFeature([Provider, Model])],
  providers: [CatalogService],
  exports: [CatalogService],
})
export class CatalogModule {}
