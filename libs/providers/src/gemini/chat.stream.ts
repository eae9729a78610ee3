// Gemini streamGenerateContent?alt=sse -> OpenAI chat.completion.chunk objects.
// Each SSE `data:` is a whole GenerateContentResponse carrying only the new parts; there is no [DONE],
// the stream just ends, and usageMetadata is cumulative (the last one seen is the total).
import { UpstreamStreamError } from '../errors';
import type {
  AdapterContext,
  ChatCompletionChunk,
  ChatResultMeta,
  ChatStreamMapper,
  SseEvent,
  ToolCallDelta,
  Usage,
} from '../types';
import { UpstreamMalformedError } from '../types';
import {
  candidateIndex,
  isAnswerText,
  mapFinishReason,
  mapUsage,
  parseGenerateContentResponse,
  toToolCall,
} from './chat.response';
import { readGeminiError, streamErrorMessage } from './errors';
import type { GeminiCandidate } from './types';

type ChunkChoice = ChatCompletionChunk['choices'][number];

interface ChoiceState {
  toolCalls: number;
  finished: boolean;
}

export function chatStreamMapper(ctx: AdapterContext, meta: ChatResultMeta): ChatStreamMapper {
  // One id and created for every chunk of the stream, as OpenAI does.
  const id = ctx.newId('chatcmpl');
  const created = Math.floor(ctx.now() / 1000);
  const choices = new Map<number, ChoiceState>();
  let usage: Usage | undefined;

  const chunk = (choice: ChunkChoice): ChatCompletionChunk => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: meta.model,
    choices: [choice],
  });

  /** The first chunk of each choice carries the role, as in OpenAI streams. */
  const open = (index: number, out: ChatCompletionChunk[]): ChoiceState => {
    let state = choices.get(index);
    if (!state) {
      state = { toolCalls: 0, finished: false };
      choices.set(index, state);
      out.push(chunk({ index, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }));
    }
    return state;
  };

  const candidateChunks = (candidate: GeminiCandidate, index: number, out: ChatCompletionChunk[]): void => {
    const state = open(index, out);
    if (state.finished) return;
    let text = '';
    const flushText = (): void => {
      if (text) out.push(chunk({ index, delta: { content: text }, finish_reason: null, logprobs: null }));
      text = '';
    };
    for (const part of candidate.content?.parts ?? []) {
      if (isAnswerText(part)) {
        text += part.text;
      } else if (part.functionCall) {
        // parallel_tool_calls: false, which Gemini has no option for: only the first call goes out
        if (meta.parallelToolCalls === false && state.toolCalls > 0) continue;
        flushText();
        // Gemini sends a function call whole, so one delta carries id, name and the complete arguments.
        const call = toToolCall({ ...part, functionCall: part.functionCall }, ctx.newId('call'));
        const delta: ToolCallDelta = { index: state.toolCalls++, ...call };
        out.push(chunk({ index, delta: { tool_calls: [delta] }, finish_reason: null, logprobs: null }));
      }
    }
    flushText();
    if (candidate.finishReason && candidate.finishReason !== 'FINISH_REASON_UNSPECIFIED') {
      state.finished = true;
      const reason = mapFinishReason(candidate.finishReason, state.toolCalls > 0);
      out.push(chunk({ index, delta: {}, finish_reason: reason, logprobs: null }));
    }
  };

  return {
    push(event: SseEvent): ChatCompletionChunk[] {
      const data = event.data.trim();
      if (data === '' || data === '[DONE]') return [];
      let body: unknown;
      try {
        body = JSON.parse(data);
      } catch {
        throw new UpstreamMalformedError('Gemini stream event is not JSON');
      }
      const error = readGeminiError(body);
      if (error) throw new UpstreamStreamError(streamErrorMessage(error));

      const response = parseGenerateContentResponse(body, true);
      if (response.usageMetadata) usage = mapUsage(response.usageMetadata) ?? usage;
      const out: ChatCompletionChunk[] = [];
      const candidates = response.candidates ?? [];
      candidates.forEach((candidate, position) => candidateChunks(candidate, candidateIndex(candidate, position), out));
      if (candidates.length === 0 && response.promptFeedback?.blockReason) {
        // A blocked prompt streams one event with promptFeedback and no candidates.
        const state = open(0, out);
        if (!state.finished) {
          state.finished = true;
          out.push(chunk({ index: 0, delta: {}, finish_reason: 'content_filter', logprobs: null }));
        }
      }
      return out;
    },
    end(): ChatCompletionChunk[] {
      // Gemini has no [DONE]: only a finishReason on every candidate tells a whole answer from a cut one.
      if (choices.size === 0 || [...choices.values()].some((c) => !c.finished)) {
        throw new UpstreamStreamError('the upstream stream ended before the response was complete');
      }
      if (!usage) return [];
      return [{ id, object: 'chat.completion.chunk', created, model: meta.model, choices: [], usage }];
    },
  };
}
