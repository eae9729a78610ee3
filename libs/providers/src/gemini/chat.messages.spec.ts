import type { ChatRequest } from '../types';
import { SKIP_THOUGHT_SIGNATURE } from './chat.messages';
import { chatToUpstream } from './chat.request';
import { target } from './test-util';
import type { GeminiGenerateContentRequest } from './types';

// Messages are checked through toUpstream so the tests see exactly the body Gemini receives.
function body(req: Partial<ChatRequest>): GeminiGenerateContentRequest {
  const full: ChatRequest = { model: 'gemini-flash', messages: [{ role: 'user', content: 'hi' }], ...req };
  return chatToUpstream(full, target(), { stream: false }).body as GeminiGenerateContentRequest;
}

describe('gemini chat messages', () => {
  it('gathers system and developer messages into systemInstruction', () => {
    const b = body({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(b.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }, { text: 'Answer in French.' }] });
    expect(b.contents).toEqual([{ role: 'user', parts: [{ text: 'hi' }] }]);
  });

  it('maps roles to user/model and merges consecutive turns of the same role', () => {
    const b = body({
      messages: [
        { role: 'user', content: 'one' },
        { role: 'user', content: [{ type: 'text', text: 'two' }] },
        { role: 'assistant', content: 'three' },
        { role: 'assistant', content: null, refusal: null },
        { role: 'user', content: 'four' },
      ],
    });
    expect(b.contents).toEqual([
      { role: 'user', parts: [{ text: 'one' }, { text: 'two' }] },
      { role: 'model', parts: [{ text: 'three' }] },
      { role: 'user', parts: [{ text: 'four' }] },
    ]);
  });

  it('sends data-URL images inline and http(s) images as fileData with a guessed mime type', () => {
    const b = body({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'compare' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.webp?size=large' } },
            { type: 'image_url', image_url: { url: 'https://example.com/photo', detail: 'high' } },
          ],
        },
      ],
    });
    expect(b.contents[0].parts).toEqual([
      { text: 'compare' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/cat.webp?size=large' } },
      { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/photo' } },
    ]);
  });

  it('sends input_audio inline with an audio mime type, and file_data blocks inline', () => {
    const b = body({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
            { type: 'input_audio', input_audio: { data: 'SUQz', format: 'mp3' } },
            { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
          ],
        },
      ],
    });
    expect(b.contents[0].parts).toEqual([
      { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
      { inlineData: { mimeType: 'audio/mp3', data: 'SUQz' } },
      { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
    ]);
  });

  it('replays assistant tool calls as functionCall parts and tool results as functionResponse in one user turn', () => {
    const b = body({
      messages: [
        { role: 'user', content: 'weather in Paris and Tokyo?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
            { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_a', content: '{"temp":21}' },
        { role: 'tool', tool_call_id: 'call_b', content: [{ type: 'text', text: '12:30' }] },
        { role: 'user', content: 'thanks' },
      ],
    });
    expect(b.contents).toHaveLength(3);
    expect(b.contents[1]).toEqual({
      role: 'model',
      parts: [
        {
          functionCall: { name: 'get_weather', args: { location: 'Paris' } },
          thoughtSignature: SKIP_THOUGHT_SIGNATURE,
        },
        { functionCall: { name: 'get_time', args: {} } },
      ],
    });
    expect(b.contents[2]).toEqual({
      role: 'user',
      parts: [
        { functionResponse: { name: 'get_weather', response: { temp: 21 } } },
        { functionResponse: { name: 'get_time', response: { result: '12:30' } } },
        { text: 'thanks' },
      ],
    });
  });

  it('wraps non-object JSON tool results as {result}', () => {
    const b = body({
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: '[1,2]' },
      ],
    });
    expect(b.contents[2].parts[0].functionResponse?.response).toEqual({ result: [1, 2] });
  });

  it('sends back a thought signature the client kept in extra_content', () => {
    const call = {
      id: 'c1',
      type: 'function' as const,
      function: { name: 'f', arguments: '{"x":1}' },
      extra_content: { google: { thought_signature: 'sig-123' } },
    };
    const b = body({
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', tool_calls: [call] },
      ],
    });
    expect(b.contents[1].parts[0]).toEqual({
      functionCall: { name: 'f', args: { x: 1 } },
      thoughtSignature: 'sig-123',
    });
  });
});
