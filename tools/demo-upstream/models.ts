// Model listings in each provider's shape. Any model id is accepted elsewhere; these lists only let
// clients and the console discover something.
import { anthropicDialect } from './anthropic';
import type { Exchange } from './exchange';
import { geminiDialect } from './gemini';
import { openaiDialect } from './openai';
import { header, type Route } from './route';

const CREATED = 1_735_689_600; // 2025-01-01: fixed, so listings are byte-for-byte stable

const OPENAI_MODELS = ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini', 'text-embedding-3-small', 'text-embedding-3-large'];
const ANTHROPIC_MODELS = ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1'];
const GEMINI_MODELS = ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-embedding-001'];

const openaiModel = (id: string) => ({ id, object: 'model', created: CREATED, owned_by: 'demo' });
const anthropicModel = (id: string) => ({
  type: 'model',
  id,
  display_name: `Demo ${id}`,
  created_at: new Date(CREATED * 1000).toISOString(),
});
const geminiModel = (id: string) => ({
  name: `models/${id}`,
  version: '001',
  displayName: `Demo ${id}`,
  description: 'Demo upstream model',
  inputTokenLimit: 1_048_576,
  outputTokenLimit: 65_536,
  supportedGenerationMethods: id.includes('embedding')
    ? ['embedContent', 'batchEmbedContents']
    : ['generateContent', 'streamGenerateContent', 'countTokens'],
});

/** GET /v1/models is shared: Anthropic's SDK sends anthropic-version / x-api-key and no Bearer token. */
function isAnthropicCall(req: Exchange['req']): boolean {
  return header(req, 'anthropic-version') !== '' || (header(req, 'x-api-key') !== '' && !header(req, 'authorization'));
}

async function gated(ex: Exchange, answer: () => unknown): Promise<void> {
  if (await ex.gate('', false)) ex.json(200, answer());
}

export const modelRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/v1\/models$/,
    dialect: anthropicDialect,
    accepts: isAnthropicCall,
    handle: (ex) =>
      gated(ex, () => ({
        data: ANTHROPIC_MODELS.map(anthropicModel),
        has_more: false,
        first_id: ANTHROPIC_MODELS[0],
        last_id: ANTHROPIC_MODELS[ANTHROPIC_MODELS.length - 1],
      })),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/models\/([^/]+)$/,
    dialect: anthropicDialect,
    accepts: isAnthropicCall,
    handle: (ex, [id]) => gated(ex, () => anthropicModel(id)),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/models$/,
    dialect: openaiDialect,
    handle: (ex) => gated(ex, () => ({ object: 'list', data: OPENAI_MODELS.map(openaiModel) })),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/models\/([^/]+)$/,
    dialect: openaiDialect,
    handle: (ex, [id]) => gated(ex, () => openaiModel(id)),
  },
  {
    method: 'GET',
    pattern: /^\/v1beta\/models$/,
    dialect: geminiDialect,
    handle: (ex) => gated(ex, () => ({ models: GEMINI_MODELS.map(geminiModel) })),
  },
  {
    method: 'GET',
    pattern: /^\/v1beta\/models\/([^/:]+)$/,
    dialect: geminiDialect,
    handle: (ex, [id]) => gated(ex, () => geminiModel(id)),
  },
];
