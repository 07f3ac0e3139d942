/**
 * winston behind the `Logger` interface: JSON lines in production, readable lines on a terminal.
 * Secrets never reach a transport: values of keys that look like secrets are redacted, and so are
 * the configured secret strings wherever they appear.
 */
import winston from 'winston';
import type { Logger } from '../model/logger.js';
import type { LogFormat, LogLevel } from './options.js';

const SECRET_KEY = /token|secret|password|authorization|api_key/i;

export function createLogger(options: { readonly level: LogLevel; readonly format: LogFormat; readonly secrets: readonly string[] }): Logger {
  const secrets = options.secrets.filter((s) => s.length >= 4);
  const scrub = (text: string): string => secrets.reduce((acc, s) => acc.split(s).join('<redacted>'), text);
  const redact = winston.format((info) => {
    for (const key of Object.keys(info)) {
      const value = info[key];
      if (SECRET_KEY.test(key)) info[key] = '<redacted>';
      else if (typeof value === 'string') info[key] = scrub(value);
      else if (value !== null && typeof value === 'object') info[key] = JSON.parse(scrub(JSON.stringify(value))) as unknown;
    }
    if (typeof info.message === 'string') info.message = scrub(info.message);
    return info;
  });
  const format =
    options.format === 'json'
      ? winston.format.combine(redact(), winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          redact(),
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          winston.format.colorize(),
          winston.format.printf(({ level, message, timestamp, ...meta }) => {
            const rest = Object.entries(meta)
              .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
              .join(' ');
            return `${String(timestamp)} ${level} ${String(message)}${rest ? ` ${rest}` : ''}`;
          }),
        );
  const logger = winston.createLogger({
    level: options.level,
    format,
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
  return {
    error: (m, meta) => logger.error(m, meta),
    warn: (m, meta) => logger.warn(m, meta),
    info: (m, meta) => logger.info(m, meta),
    debug: (m, meta) => logger.debug(m, meta),
  };
}
