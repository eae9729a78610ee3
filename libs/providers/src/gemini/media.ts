// Media blocks (image URLs, audio, files) as Gemini parts: data URLs become inlineData, http(s) URLs fileData.
import { AdapterRequestError } from '../errors';
import type { GeminiPart } from './types';

const MIME_BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  txt: 'text/plain',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
  aac: 'audio/aac',
  ogg: 'audio/ogg',
  flac: 'audio/flac',
  aiff: 'audio/aiff',
  mp4: 'video/mp4',
  mpeg: 'video/mpeg',
  mov: 'video/mov',
  webm: 'video/webm',
};

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)?((?:;[\w-]+=[^;,]*)*);base64,(.*)$/s;

/** `data:image/png;base64,...` -> {mimeType, data}; undefined when the string is not a base64 data URL. */
export function parseDataUrl(url: string): { mimeType: string | undefined; data: string } | undefined {
  const match = DATA_URL.exec(url);
  if (!match) return undefined;
  return { mimeType: match[1], data: match[3] };
}

/** Mime type from a URL's or file name's extension (query and fragment ignored). */
export function guessMimeType(nameOrUrl: string, fallback: string): string {
  const path = nameOrUrl.split(/[?#]/, 1)[0];
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return (ext && MIME_BY_EXTENSION[ext]) || fallback;
}

/** An image (or other media) URL as a Gemini part; `fallbackMime` applies when nothing names the type. */
export function urlToPart(url: string, param: string, fallbackMime: string): GeminiPart {
  if (url.startsWith('data:')) {
    const parsed = parseDataUrl(url);
    if (!parsed || parsed.data.length === 0) throw new AdapterRequestError('invalid base64 data URL', param);
    return { inlineData: { mimeType: parsed.mimeType ?? fallbackMime, data: parsed.data } };
  }
  if (/^https?:\/\//i.test(url)) {
    // Gemini fetches the URI itself (Files API URIs, YouTube and public URLs), so only the mime type is guessed.
    return { fileData: { mimeType: guessMimeType(url, fallbackMime), fileUri: url } };
  }
  throw new AdapterRequestError('only data: and http(s): URLs are supported', param);
}

/** OpenAI's input_audio formats ('wav', 'mp3', ...) as the mime types Gemini lists. */
export function audioMimeType(format: string): string {
  const f = format.toLowerCase();
  if (f === 'mp3' || f === 'mpeg') return 'audio/mp3';
  return MIME_BY_EXTENSION[f] ?? `audio/${f}`;
}

/** OpenAI `file` blocks: file_data is a data URL or bare base64 (then the filename tells the type). */
export function fileToPart(
  file: { file_id?: string; file_data?: string; filename?: string },
  param: string,
): GeminiPart {
  if (typeof file.file_data === 'string' && file.file_data.length > 0) {
    const parsed = parseDataUrl(file.file_data);
    const mimeType = parsed?.mimeType ?? guessMimeType(file.filename ?? '', 'application/pdf');
    return { inlineData: { mimeType, data: parsed ? parsed.data : file.file_data } };
  }
  // file_id blocks are resolved to file_data by the gateway before routing; an id reaching here has no content.
  throw new AdapterRequestError('file blocks need file_data for this model', `${param}.file`);
}
