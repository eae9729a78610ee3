// The demo upstream: a local server speaking the OpenAI, Anthropic and Gemini wire formats, for
// `npm run demo`, the e2e tests and the benchmark. See README.md.
export { startDemoUpstream } from './server';
export type { DemoKnobs, DemoProvider, DemoUpstream, RecordedRequest, StartOptions } from './types';
