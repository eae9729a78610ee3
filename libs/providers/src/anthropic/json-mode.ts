// JSON mode by forced tool: Anthropic has no response_format, so the schema becomes the input_schema of a
// reserved tool the model must call. fromUpstream and the stream mapper never see the request, so the
// reserved name itself, found in the response, tells them to turn that tool's input back into content.
import type { ChatRequest, ResponseFormat, ToolChoice } from '../types';
import { AdapterRequestError } from '../errors';
import type { AnthropicTool, AnthropicToolChoice } from './types';

/** Distinctive enough that no client tool uses it; a client tool with this name is refused. */
export const JSON_MODE_TOOL_NAME = 'switchyard_json_response';

export function isJsonMode(format: ResponseFormat | undefined): format is Exclude<ResponseFormat, { type: 'text' }> {
  return format?.type === 'json_object' || format?.type === 'json_schema';
}

export function jsonModeTool(format: Exclude<ResponseFormat, { type: 'text' }>): AnthropicTool {
  if (format.type === 'json_object') {
    return {
      name: JSON_MODE_TOOL_NAME,
      description: 'Give your whole answer as a JSON object: the input of this tool is the response.',
      input_schema: { type: 'object' },
    };
  }
  const { name, description, schema } = format.json_schema;
  return {
    name: JSON_MODE_TOOL_NAME,
    description:
      description ??
      `Give your whole answer as JSON matching the "${name}" schema: the input of this tool is the response.`,
    input_schema: schema ?? { type: 'object' },
  };
}

/**
 * tool_choice for Anthropic. In JSON mode without usable client tools the reserved tool is forced; with
 * client tools the model must call some tool ('any'), so it can still call a real one or answer in JSON.
 */
export function toAnthropicToolChoice(
  req: Pick<ChatRequest, 'tool_choice' | 'parallel_tool_calls' | 'response_format'>,
  hasClientTools: boolean,
): AnthropicToolChoice | undefined {
  const choice: ToolChoice | undefined = req.tool_choice ?? undefined;
  const named =
    typeof choice === 'object' && typeof choice.function?.name === 'string' ? choice.function.name : undefined;
  const noParallel = req.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};

  if (isJsonMode(req.response_format)) {
    if (named !== undefined && hasClientTools) return { type: 'tool', name: named, ...noParallel };
    if (hasClientTools && choice !== 'none') return { type: 'any', ...noParallel };
    return { type: 'tool', name: JSON_MODE_TOOL_NAME, ...noParallel };
  }
  if (!hasClientTools) return undefined; // Anthropic refuses tool_choice without tools
  if (choice === undefined || choice === 'auto') {
    if (req.parallel_tool_calls === false) return { type: 'auto', disable_parallel_tool_use: true };
    return choice === 'auto' ? { type: 'auto' } : undefined;
  }
  if (choice === 'none') return { type: 'none' };
  if (choice === 'required') return { type: 'any', ...noParallel };
  if (named !== undefined) return { type: 'tool', name: named, ...noParallel };
  throw new AdapterRequestError('tool_choice must be "none", "auto", "required" or a named function', 'tool_choice');
}
