// The streaming half of /v1/chat/completions. Headers go out only once the upstream produced its first
// chunk (until then a failing route can still fall back). Usage is always metered: the upstream's usage
// chunk when it sends one, a token count of what was delivered otherwise (client gone, upstream cut).
import type { Response } from 'express';
import { formatAmount, sendError } from '@switchyard/core';
import type { MeteredUsage } from '@switchyard/catalog';
import type { CancelSignal, ChatCompletionChunk, ChatRequest } from '@switchyard/providers';
import { UpstreamRouter, type ChatStream } from '@switchyard/routing';
import {
  Admission,
  GatewayPipeline,
  GatewayRequest,
  SseWriter,
  endFailed,
  markServed,
  pumpStream,
  servedHeaders,
} from '@switchyard/pipeline';
import { countChatInput, countText } from '../token-count';
import { meteredFrom, toOpenAIUsage } from './chat-usage';

interface StreamInput {
  req: GatewayRequest;
  res: Response;
  chat: ChatRequest;
  requested: string;
  adm: Admission;
  signal: CancelSignal;
  router: UpstreamRouter;
  pipeline: GatewayPipeline;
}

export async function streamChat(i: StreamInput): Promise<void> {
  const call = i.adm.call;
  let served: ChatStream;
  try {
    served = await i.router.chatStream(i.chat, i.adm.attempts, { model: i.requested }, i.signal);
  } catch (e) {
    return endFailed(i.pipeline, i.adm, i.res, e);
  }
  markServed(call, served.attempt, i.req);

  const includeUsage = i.chat.stream_options?.include_usage === true;
  const out = new SseWriter(i.res);
  out.start(servedHeaders(i.adm, served.attempt, i.requested));
  const produced: string[] = [];
  let reported: MeteredUsage | undefined;
  let usageChunk: ChatCompletionChunk | undefined;
  let last: ChatCompletionChunk | undefined;

  // the chunks of one upstream read go out as one write of the response (one HTTP chunk)
  const emit = async (chunks: ChatCompletionChunk[]) => {
    let text = '';
    for (const c of chunks) {
      last = c;
      for (const ch of c.choices) {
        if (typeof ch.delta.content === 'string') produced.push(ch.delta.content);
        for (const t of ch.delta.tool_calls ?? [])
          produced.push((t.function?.name ?? '') + (t.function?.arguments ?? ''));
      }
      if (c.usage) {
        reported = meteredFrom(c.usage) ?? reported;
        // usage goes out once, last, with its cost; a usage-only chunk is held back until then
        if (!c.choices.length) {
          usageChunk = c;
          continue;
        }
        const { usage: _u, ...rest } = c;
        text += `data: ${JSON.stringify(includeUsage ? { ...rest, usage: null } : rest)}\n\n`;
        continue;
      }
      // as OpenAI does: with include_usage every chunk before the last carries `usage: null`; without it no
      // chunk has the field, though the gateway always asks openai-kind upstreams for usage (the chunk is ours)
      if (includeUsage) c.usage = null;
      else if ('usage' in c) delete c.usage;
      text += `data: ${JSON.stringify(c)}\n\n`;
    }
    if (text) await out.write(text);
  };

  const { gone, failure } = await pumpStream(out, served.first, served.rest, emit);

  // the tokens delivered are what is charged when the upstream could not report them
  const usage: MeteredUsage = reported ?? {
    inputTokens: countChatInput(i.chat),
    cachedInputTokens: 0,
    outputTokens: countText(produced.join('')),
  };
  // a vanished client pays for what was produced, never more than its hold
  const cost = await i.pipeline.finish(i.adm, served.attempt.model, usage, { capAtHold: gone });
  if (gone) return;
  if (failure) {
    sendError(i.req, i.res, failure);
    return;
  }
  let tail = '';
  if (includeUsage) {
    const base = usageChunk ?? {
      id: last?.id ?? i.req.id,
      object: 'chat.completion.chunk' as const,
      created: last?.created ?? Math.floor(Date.now() / 1000),
      model: i.requested,
      choices: [],
    };
    tail = `data: ${JSON.stringify({ ...base, usage: { ...toOpenAIUsage(usage), ...(usageChunk?.usage ?? {}), cost: formatAmount(cost) } })}\n\n`;
  }
  out.end(`${tail}data: [DONE]\n\n`);
}
