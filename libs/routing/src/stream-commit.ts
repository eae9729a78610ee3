// When a stream stops being able to fall back. A route is committed once it produced part of an answer
// (content, a refusal, a tool call, a finish or usage): a role chunk alone (Anthropic's message_start,
// OpenAI's first chunk) says nothing yet, and an overloaded_error right after it must still fall back.

/** Chunks held back while waiting for the first one that carries an answer; past this, commit anyway. */
export const MAX_UNCOMMITTED_CHUNKS = 32;

interface ChunkLike {
  choices: Array<{
    delta?: { content?: string | null; refusal?: string | null; tool_calls?: unknown[] } | null;
    finish_reason?: string | null;
  }>;
  usage?: unknown;
}

export function carriesAnswer(c: ChunkLike): boolean {
  if (c.choices.length === 0) return c.usage != null;
  return c.choices.some(
    (ch) => ch.finish_reason != null || !!ch.delta?.content || !!ch.delta?.refusal || !!ch.delta?.tool_calls?.length,
  );
}

/** True once the chunks buffered so far may go to the client (and the route can no longer be left). */
export function readyToCommit(buffered: readonly ChunkLike[]): boolean {
  return buffered.length >= MAX_UNCOMMITTED_CHUNKS || buffered.some(carriesAnswer);
}
