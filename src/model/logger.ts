/** The logging interface every layer receives (winston behind it in production). */
export interface Logger {
  error(message: string, meta?: Readonly<Record<string, unknown>>): void;
  warn(message: string, meta?: Readonly<Record<string, unknown>>): void;
  info(message: string, meta?: Readonly<Record<string, unknown>>): void;
  debug(message: string, meta?: Readonly<Record<string, unknown>>): void;
}

export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };
