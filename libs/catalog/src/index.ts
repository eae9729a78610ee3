// Public face of libs/catalog: providers, models, prices, capabilities, the catalog-file loader.
export * from './entities/provider.entity';
export * from './entities/model.entity';
export * from './pricing';
export * from './catalog-file';
export * from './catalog.service';
export * from './model-view';
export { REDACTED, redactedHeaders } from './provider-headers';
export * from './catalog.module';
