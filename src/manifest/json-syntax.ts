/**
 * Turns a JSON.parse failure into one issue that names line and column (1-based) and the fix.
 * Node 20's messages do not always carry a position, so a small scanner finds the offset.
 */
import { issue, type Issue } from '../model/issues.js';

const JSON_STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const JSON_VALUE = new RegExp(`${JSON_STRING.source}|-?(?:0|[1-9]\\d*)(?:\\.\\d+)?(?:[eE][+-]?\\d+)?|true|false|null`, 'y');
const JSON_SPACE = /[ \t\n\r]*/y;

/** One issue for a JSON.parse failure, naming line and column (1-based) and what to fix. */
export function jsonSyntaxIssue(body: string, message: string): Issue {
  const example = '{"rules": [{"match": {"hostname": "api.example.com"}, "target": {"instance": "my-api", "port": 8080}}]}';
  if (body.trim().length === 0) {
    return issue('invalid_request', '', `invalid JSON at line 1, column 1: the file is empty; write a JSON object such as ${example}`);
  }
  // Node 20: "… in JSON at position N"; Node 22+ adds "(line L column C)"; some errors carry neither.
  const lineCol = /\(line (\d+) column (\d+)\)/.exec(message);
  const position = /at position (\d+)/.exec(message);
  const endOfInput = /end of JSON input/.test(message);
  const where = lineCol
    ? { line: Number(lineCol[1]), column: Number(lineCol[2]) }
    : lineColumn(body, position ? Number(position[1]) : endOfInput ? body.trimEnd().length : scanErrorOffset(body));
  const reason = endOfInput
    ? 'the file ends before the JSON is complete (a closing }, ] or " is missing)'
    : message
        .replace(/ in JSON at position \d+.*$/s, '')
        // V8 quotes the text around the error (`…, ..."x": [,]\n}" is not valid JSON`): drop it, it may span lines.
        .replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '')
        .replace(/\s+/g, ' ');
  return issue(
    'invalid_request',
    '',
    `invalid JSON at line ${where.line}, column ${where.column}: ${reason}; check for a missing or extra comma, quote or bracket there (JSON allows no comments or trailing commas)`,
  );
}

function lineColumn(text: string, offset: number): { readonly line: number; readonly column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  return { line: before.split('\n').length, column: before.length - before.lastIndexOf('\n') };
}

function stickyEnd(re: RegExp, text: string, at: number): number | undefined {
  re.lastIndex = at;
  return re.test(text) ? re.lastIndex : undefined;
}

/** Offset of the first syntax error, for V8 messages without a position ("Unexpected token 'x', …"). */
function scanErrorOffset(text: string): number {
  const closers: string[] = [];
  let state: 'value' | 'valueOrClose' | 'key' | 'keyOrClose' | 'after' = 'value';
  let i = stickyEnd(JSON_SPACE, text, 0) ?? 0;
  while (i < text.length) {
    const c = text[i];
    let next: number | undefined;
    if (state !== 'value' && state !== 'key' && c === closers.at(-1)) {
      closers.pop();
      state = 'after';
      next = i + 1;
    } else if (state === 'after') {
      if (c !== ',' || closers.length === 0) return i;
      state = closers.at(-1) === '}' ? 'key' : 'value';
      next = i + 1;
    } else if (state === 'key' || state === 'keyOrClose') {
      const end = stickyEnd(JSON_STRING, text, i);
      if (end === undefined) return i;
      const colon = stickyEnd(JSON_SPACE, text, end) ?? end;
      if (text[colon] !== ':') return colon;
      state = 'value';
      next = colon + 1;
    } else if (c === '{' || c === '[') {
      closers.push(c === '{' ? '}' : ']');
      state = c === '{' ? 'keyOrClose' : 'valueOrClose';
      next = i + 1;
    } else {
      next = stickyEnd(JSON_VALUE, text, i);
      if (next === undefined) return i;
      state = 'after';
    }
    i = stickyEnd(JSON_SPACE, text, next) ?? next;
  }
  return i;
}
