/**
 * The README is the user documentation of every key: it must list each key of the schema with its
 * default, and each flag and environment variable, so the docs cannot fall behind the code.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_FLAG, CONFIG_ENV, NODE_OPTIONS } from '../../src/index.js';
import { applyOverrides, parseConfigArgs, CONFIG_SPECIAL_KEYS, configKeyPaths, validateConfig } from '../../src/internals.js';
import type { LeafType } from '../../src/config/schema.js';

const readme = readFileSync(fileURLToPath(new URL('../../src/config/README.md', import.meta.url)), 'utf8');

/** The README's Type column for a key of kind `kind`, as the schema's table says it. */
function typeColumn(kind: LeafType): string {
  switch (kind.type) {
    case 'int':
      return kind.min === 1 && kind.max === Number.MAX_SAFE_INTEGER ? 'positive integer' : `integer ${kind.min} – ${kind.max}`;
    case 'bool':
      return 'boolean';
    case 'string':
      return (kind.minLength ?? 1) > 1 ? `string, ≥ ${kind.minLength} characters` : 'string';
    case 'enum':
      return kind.values.map((v) => `\`${v}\``).join(' \\| ');
    case 'host':
      return 'IPv4 address or host name';
    case 'hostPort':
      return '`"host:port"`';
    case 'path':
      return 'path';
  }
}

/** The rows of the README's key tables (those headed Key | Type | Default | Meaning): key -> cells. */
function keyTableRows(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  let inTable = false;
  for (const line of readme.split('\n')) {
    if (line.startsWith('| Key | Type | Default | Meaning |')) inTable = true;
    else if (!line.startsWith('|')) inTable = false;
    else if (inTable && !line.startsWith('|---')) {
      const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
      rows.set(cells[0].replace(/^`|`$/g, ''), cells);
    }
  }
  return rows;
}

describe('config: README', () => {
  it('documents every key with its default', () => {
    for (const [keyPath, spec] of configKeyPaths()) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${keyPath}\` |`));
      expect(row, `README row for ${keyPath}`).to.not.equal(undefined);
      if (spec.default !== undefined) expect(row, `default of ${keyPath}`).to.include(`\`${spec.default}\``);
    }
    for (const key of Object.keys(CONFIG_SPECIAL_KEYS)) expect(readme, key).to.include(`\`${key}\``);
  });

  it('its key tables are the schema table: the same keys, each with the type of its kind', () => {
    const rows = keyTableRows();
    const schemaKeys = configKeyPaths().map(([keyPath]) => keyPath);
    const special = Object.keys(CONFIG_SPECIAL_KEYS);
    expect([...rows.keys()].filter((key) => !schemaKeys.includes(key) && !special.includes(key)), 'README rows for keys the schema lacks').to.deep.equal([]);
    for (const [keyPath, spec] of configKeyPaths()) expect(rows.get(keyPath)?.[1], `type of ${keyPath}`).to.equal(typeColumn(spec.kind));
  });

  it('documents every flag and environment variable', () => {
    for (const option of NODE_OPTIONS) {
      expect(readme, option.env).to.include(`\`${option.env}\``);
      if (option.flag !== undefined) expect(readme, option.flag).to.include(`\`${option.flag} `);
    }
    expect(readme).to.include(`\`${CONFIG_FLAG} <path>\``).and.include(`\`${CONFIG_ENV}\``);
  });

  it('its example is a valid configuration', () => {
    const example = /## Example\n\n```json\n([\s\S]*?)\n```/.exec(readme)?.[1];
    expect(example).to.be.a('string');
    // node.id comes per node, as the README says: by flag.
    const merged = applyOverrides(JSON.parse(example!), parseConfigArgs(['--node-id', '1']).overrides);
    const config = validateConfig(merged.raw, { baseDir: '/etc/derecho', labels: merged.labels, readFile: () => 'a secret of more than sixteen characters\n' });
    expect(config.cluster.members).to.have.length(3);
    expect(config.node).to.include({ id: 1, host: '10.0.0.2', port: 23580 });
    expect(config.profiles.LARGE.maxPayloadBytes).to.equal(1048576);
  });
});
