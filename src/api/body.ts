/**
 * Reading a request body: JSON content type only, at most `maxBytes`, strict UTF-8.
 */
import type { IncomingMessage } from 'node:http';
import { ApiError } from './types.js';

/** Bytes of an oversized body discarded before the connection is cut (lets the client read the 413). */
const DRAIN_LIMIT_BYTES = 8 * 1_048_576;
const JSON_TYPE = /^application\/(?:[a-z0-9.+-]+\+)?json\s*(?:;.*)?$/i;

/**
 * Resolves with the body text. Rejects with `invalid_request` for a content type other than
 * `application/json` (or `application/*+json`) or bytes that are not UTF-8, and with
 * `payload_too_large` once the declared or received size passes `maxBytes`: nothing past the limit
 * is kept. The rest of an oversized body is read and discarded before the rejection, so the client,
 * still sending, is not reset before it can read the 413; past a few MiB the 413 goes out at once.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const type = req.headers['content-type'] ?? '';
  if (!JSON_TYPE.test(type)) {
    return Promise.reject(new ApiError('invalid_request', `Content-Type must be application/json, got ${type === '' ? 'none' : JSON.stringify(type)}`));
  }
  const tooLarge = new ApiError('payload_too_large', `the request body exceeds ${maxBytes} bytes`, { connection: 'close' });
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) return discardThenReject(req, tooLarge);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      chunks.length = 0;
      discardThenReject(req, tooLarge).catch(reject);
    };
    const onEnd = (): void => {
      try {
        resolve(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)));
      } catch {
        reject(new ApiError('invalid_request', 'the request body is not valid UTF-8'));
      }
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/** Discards the rest of a body without keeping it, then rejects with `error` (at once past the drain limit). */
function discardThenReject(req: IncomingMessage, error: ApiError): Promise<never> {
  return new Promise((_resolve, reject) => {
    let discarded = 0;
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > DRAIN_LIMIT_BYTES) reject(error);
    });
    req.on('end', () => reject(error));
    req.on('close', () => reject(error));
    req.resume();
  });
}
