/**
 * The JSON Schema of cluster.json is generated from the configuration schema and checked in; the
 * checked-in file must be what the generator prints, cover every key the validator accepts, and
 * the example config (which points at it with "$schema") must load.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/index.js';
import { CLUSTER_SCHEMA_FILE, clusterJsonSchema, clusterJsonSchemaText } from '../../src/config/json-schema.js';
import { leafPaths, TOP_LEVEL_KEYS } from '../../src/config/schema.js';

const packageRoot = new URL('../../', import.meta.url);
const checkedIn = fileURLToPath(new URL(CLUSTER_SCHEMA_FILE, packageRoot));
const example = fileURLToPath(new URL('src/config/cluster.example.json', packageRoot));

interface ObjectSchema {
  properties: Record<string, ObjectSchema & { default?: unknown }>;
}

describe('cluster.json JSON Schema', () => {
  it('the checked-in file is up to date', () => {
    expect(readFileSync(checkedIn, 'utf8'), `stale ${CLUSTER_SCHEMA_FILE}: regenerate it with \`node --conditions=@derecho-ts/source --import tsx packages/runtime/src/cli/main.ts config-schema > packages/runtime/${CLUSTER_SCHEMA_FILE}\``).to.equal(clusterJsonSchemaText());
  });

  it('has every key the validator accepts, with its default, and nothing else at the top', () => {
    const schema = clusterJsonSchema() as unknown as ObjectSchema;
    expect(Object.keys(schema.properties).sort()).to.deep.equal([...TOP_LEVEL_KEYS].sort());
    for (const [path, spec] of leafPaths()) {
      const [section, key] = path.split('.');
      const property = schema.properties[section].properties[key];
      expect(property, path).to.not.equal(undefined);
      expect(property.default, path).to.equal(spec.default);
    }
  });

  it('the example config points at it and loads', () => {
    const text = JSON.parse(readFileSync(example, 'utf8')) as { $schema: string };
    expect(text.$schema).to.equal('./cluster.schema.json');
    const config = loadConfig({ path: example, argv: ['--node-id', '1'], env: {} });
    expect(config.node.id).to.equal(1);
    expect(config.node.host).to.equal('10.0.0.2');
    expect(config.multicast.windowSize).to.equal(32);
  });
});
