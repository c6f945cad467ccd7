/**
 * JSON text to value with an error that says where: `cluster.json:7:3: trailing comma before "}"`.
 * V8's JSON.parse messages give a byte position only sometimes ("Unexpected token '}', ... is not
 * valid JSON" has none), so on failure a small scanner walks the text to find the first fault.
 */

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
  constructor(
    readonly source: string,
    readonly line: number,
    readonly column: number,
    readonly detail: string,
    excerpt: string,
  ) {
    super(`${source}:${line}:${column}: invalid JSON: ${detail}\n${excerpt}`);
  }
}

/** Parses `text` (named `source` in errors); throws JsonSyntaxError with line and column. */
export function parseJsonText(text: string, source: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch {
    const fault = findJsonFault(body) ?? { offset: 0, detail: 'not valid JSON' };
    const { line, column } = lineAndColumn(body, fault.offset);
    throw new JsonSyntaxError(source, line, column, fault.detail, excerptAt(body, line, column));
  }
}

export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function excerptAt(text: string, line: number, column: number): string {
  const lineText = text.split('\n')[line - 1] ?? '';
  const clipped = lineText.length > 120 ? lineText.slice(Math.max(0, column - 60), column + 60) : lineText;
  const caretColumn = lineText.length > 120 ? Math.min(column - 1, 60) : column - 1;
  return `  ${clipped.replace(/\t/g, ' ')}\n  ${' '.repeat(Math.max(0, caretColumn))}^`;
}

interface Fault {
  offset: number;
  detail: string;
}

/** The first syntax fault in `text`, or undefined if it is valid JSON. */
export function findJsonFault(text: string): Fault | undefined {
  let i = 0;
  const fault = (detail: string, at = i): never => {
    throw { offset: at, detail } satisfies Fault;
  };
  const describe = (at: number): string => (at >= text.length ? 'end of input' : JSON.stringify(text[at]));
  const skip = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
    if (text.startsWith('//', i) || text.startsWith('/*', i)) fault('comments are not allowed in JSON');
  };
  const value = (): void => {
    skip();
    const c = text[i];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    if (c === "'") fault('strings must use double quotes');
    if (c === undefined) fault('unexpected end of input, expected a value');
    fault(`unexpected ${describe(i)}, expected a value`);
  };
  const string = (): void => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fault('bad \\u escape in string');
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) fault(`bad escape \\${e ?? ''} in string`);
        i += 2;
        continue;
      }
      if (text.charCodeAt(i) < 0x20) fault('unescaped control character (e.g. a newline) in string');
      i++;
    }
    if (i >= text.length) fault('unterminated string');
    i++;
  };
  const number = (): void => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (m === null || m[0] === '-') fault('malformed number');
    i += m![0].length;
  };
  const array = (): void => {
    i++;
    skip();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      value();
      if (!more(']', 'array')) return;
    }
  };
  const object = (): void => {
    i++;
    skip();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      skip();
      if (text[i] !== '"') fault(text[i] === undefined ? 'unexpected end of input, expected a property name' : `unexpected ${describe(i)}, expected a double-quoted property name`);
      string();
      skip();
      if (text[i] !== ':') fault(`unexpected ${describe(i)} after property name, expected ":"`);
      i++;
      value();
      if (!more('}', 'object')) return;
    }
  };
  /** After an element: true at a comma (another element follows), false at the closing bracket. */
  const more = (close: ']' | '}', what: string): boolean => {
    skip();
    if (text[i] === ',') {
      const comma = i;
      i++;
      skip();
      if (text[i] === close) fault(`trailing comma before "${close}"`, comma);
      return true;
    }
    if (text[i] === close) {
      i++;
      return false;
    }
    return fault(`unexpected ${describe(i)} in ${what}, expected "," or "${close}"`);
  };
  try {
    skip();
    if (i >= text.length) fault('the file is empty');
    value();
    skip();
    if (i < text.length) fault(`unexpected ${describe(i)} after the end of the JSON value`);
    return undefined;
  } catch (err) {
    if (err !== null && typeof err === 'object' && 'offset' in err) return err as Fault;
    throw err;
  }
}
