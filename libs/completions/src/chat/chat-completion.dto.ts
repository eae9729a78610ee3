import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsArray,
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Min,
  ArrayNotEmpty,
  ValidateBy,
  ValidationOptions,
} from 'class-validator';
import type { ChatMessage, ChatRequest, FunctionTool, ResponseFormat, ToolChoice } from '@switchyard/providers';

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'];

function IsMessages(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isMessages',
      validator: {
        validate: (v: unknown) => messagesProblem(v) === null,
        defaultMessage: (a) => messagesProblem(a?.value) ?? 'messages is invalid',
      },
    },
    options,
  );
}

/** The first thing wrong with a messages array, or null. Content parts are the adapter's business. */
export function messagesProblem(v: unknown): string | null {
  if (!Array.isArray(v)) return 'messages must be an array';
  for (let i = 0; i < v.length; i++) {
    const m = v[i] as Record<string, unknown>;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return `messages[${i}] must be an object`;
    if (typeof m.role !== 'string' || !ROLES.includes(m.role))
      return `messages[${i}].role must be one of ${ROLES.join(', ')}`;
    const c = m.content;
    const emptyOk = m.role === 'assistant' && (Array.isArray(m.tool_calls) || c === null || c === undefined);
    if (!emptyOk && typeof c !== 'string' && !Array.isArray(c))
      return `messages[${i}].content must be a string or an array of content parts`;
    if (
      Array.isArray(c) &&
      c.some((p) => typeof p !== 'object' || p === null || typeof (p as { type?: unknown }).type !== 'string')
    ) {
      return `messages[${i}].content parts must be objects with a type`;
    }
    if (m.role === 'tool' && typeof m.tool_call_id !== 'string')
      return `messages[${i}].tool_call_id is required for tool messages`;
  }
  return null;
}

function IsStop(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isStop',
      validator: {
        validate: (v: unknown) =>
          v === null ||
          typeof v === 'string' ||
          (Array.isArray(v) && v.length <= 4 && v.every((s) => typeof s === 'string')),
        defaultMessage: () => 'stop must be a string or an array of up to 4 strings',
      },
    },
    options,
  );
}

function IsTools(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isTools',
      validator: {
        validate: (v: unknown) =>
          Array.isArray(v) &&
          v.every((t) => {
            const f = (t as { type?: unknown; function?: { name?: unknown } })?.function;
            return (
              (t as { type?: unknown }).type === 'function' &&
              typeof f?.name === 'string' &&
              /^[A-Za-z0-9_-]{1,64}$/.test(f.name)
            );
          }),
        defaultMessage: () =>
          'tools must be an array of {type: "function", function: {name, description?, parameters?}} with names of letters, digits, _ and -',
      },
    },
    options,
  );
}

function IsToolChoice(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isToolChoice',
      validator: {
        validate: (v: unknown) =>
          v === 'none' ||
          v === 'auto' ||
          v === 'required' ||
          ((v as { type?: unknown })?.type === 'function' &&
            typeof (v as { function?: { name?: unknown } }).function?.name === 'string'),
        defaultMessage: () => 'tool_choice must be "none", "auto", "required" or {type: "function", function: {name}}',
      },
    },
    options,
  );
}

/** The OpenAI Chat Completions request, validated where the gateway reads it. */
export class ChatCompletionDto implements ChatRequest {
  [extra: string]: unknown;

  @ApiProperty({ example: 'gpt-4o-mini' })
  @IsString({ message: 'model must be a string' })
  @IsNotEmpty({ message: 'model is required' })
  model!: string;

  @ApiProperty({ example: [{ role: 'user', content: 'Hello!' }] })
  @IsArray({ message: 'messages must be an array' })
  @ArrayNotEmpty({ message: 'messages must not be empty' })
  @IsMessages()
  messages!: ChatMessage[];

  @ApiPropertyOptional() @IsOptional() @IsBoolean({ message: 'stream must be a boolean' }) stream?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsObject({ message: 'stream_options must be an object' }) stream_options?: {
    include_usage?: boolean;
  } | null;
  @ApiPropertyOptional()
  @IsOptional()
  @IsNumber({}, { message: 'temperature must be a number' })
  @Min(0)
  @Max(2)
  temperature?: number | null;
  @ApiPropertyOptional() @IsOptional() @IsNumber({}, { message: 'top_p must be a number' }) @Min(0) @Max(1) top_p?:
    number | null;
  @ApiPropertyOptional() @IsOptional() @IsInt({ message: 'seed must be an integer' }) seed?: number | null;
  @ApiPropertyOptional() @IsOptional() @IsInt({ message: 'n must be an integer' }) @Min(1) @Max(128) n?: number | null;
  @ApiPropertyOptional() @IsOptional() @IsInt({ message: 'max_tokens must be an integer' }) @Min(1) max_tokens?:
    number | null;
  @ApiPropertyOptional()
  @IsOptional()
  @IsInt({ message: 'max_completion_tokens must be an integer' })
  @Min(1)
  max_completion_tokens?: number | null;
  @ApiPropertyOptional() @IsOptional() @IsStop() stop?: string | string[] | null;
  @ApiPropertyOptional() @IsOptional() @IsTools() tools?: FunctionTool[];
  @ApiPropertyOptional() @IsOptional() @IsToolChoice() tool_choice?: ToolChoice;
  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean({ message: 'parallel_tool_calls must be a boolean' })
  parallel_tool_calls?: boolean;
  @ApiPropertyOptional()
  @IsOptional()
  @IsObject({ message: 'response_format must be an object' })
  @ValidateBy({
    name: 'isResponseFormat',
    validator: {
      validate: (v: unknown) => {
        const t = (v as { type?: unknown })?.type;
        if (t === 'text' || t === 'json_object') return true;
        const js = (v as { json_schema?: { name?: unknown; schema?: unknown } }).json_schema;
        return (
          t === 'json_schema' &&
          typeof js?.name === 'string' &&
          (js.schema === undefined || typeof js.schema === 'object')
        );
      },
      defaultMessage: () =>
        'response_format must be {type: "text"}, {type: "json_object"} or {type: "json_schema", json_schema: {name, schema}}',
    },
  })
  response_format?: ResponseFormat;
  @ApiPropertyOptional() @IsOptional() @IsString({ message: 'user must be a string' }) user?: string;
}
