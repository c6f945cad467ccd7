import { expect } from 'chai';
import { JsonSyntaxError } from '../../src/index.js';
import { parseJsonText } from '../../src/internals.js';

function syntaxError(text: string): JsonSyntaxError {
  try {
    parseJsonText(text, 'cluster.json');
  } catch (err) {
    expect(err).to.be.instanceOf(JsonSyntaxError);
    return err as JsonSyntaxError;
  }
  throw new Error('expected a JsonSyntaxError');
}

const where = (text: string): string => {
  const e = syntaxError(text);
  return `${e.line}:${e.column} ${e.detail}`;
};

describe('config: JSON text', () => {
  it('parses valid JSON, with or without a byte-order mark', () => {
    expect(parseJsonText('{"a": [1, 2.5e3, "x\\u0041", true, null]}', 'f')).to.deep.equal({ a: [1, 2500, 'xA', true, null] });
    expect(parseJsonText('\ufeff{"a": 1}', 'f')).to.deep.equal({ a: 1 });
  });

  it('names the line and column of the first fault', () => {
    expect(where('{\n  "node": {"id": 1},\n}')).to.equal('2:20 trailing comma before "}"');
    expect(where('{\n  "a": 1\n  "b": 2\n}')).to.equal('3:3 unexpected "\\"" in object, expected "," or "}"');
    expect(where('{"a": [1, 2,]}')).to.equal('1:12 trailing comma before "]"');
    expect(where('{\n  // the node\n  "a": 1}')).to.equal('2:3 comments are not allowed in JSON');
    expect(where("{'a': 1}")).to.equal("1:2 unexpected \"'\", expected a double-quoted property name");
    expect(where('{"a": \'x\'}')).to.equal('1:7 strings must use double quotes');
    expect(where('{"a": 1')).to.equal('1:8 unexpected end of input in object, expected "," or "}"');
    expect(where('{"a": "line\nbreak"}')).to.equal('1:12 unescaped control character (e.g. a newline) in string');
    expect(where('{"a": 01}')).to.equal('1:8 unexpected "1" in object, expected "," or "}"');
    expect(where('{"a": tru}')).to.equal('1:7 unexpected "t", expected a value');
    expect(where('{"a" 1}')).to.equal('1:6 unexpected "1" after property name, expected ":"');
    expect(where('{} {}')).to.equal('1:4 unexpected "{" after the end of the JSON value');
    expect(where('  \n ')).to.equal('2:2 the file is empty');
    expect(where('{"a": "\\x"}')).to.equal('1:8 bad escape \\x in string');
    expect(where('{"a": "open')).to.equal('1:12 unterminated string');
  });

  it('shows the line with a caret under the fault', () => {
    expect(syntaxError('{\n  "node": {"id": 1},\n}').message).to.equal('cluster.json:2:20: invalid JSON: trailing comma before "}"\n    "node": {"id": 1},\n                     ^');
  });
});
