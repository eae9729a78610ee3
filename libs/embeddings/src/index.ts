// Public face of libs/embeddings: /v1/embeddings.
export * from './embeddings.dto';
export * from './embeddings.service';
export * from './embeddings.module';
