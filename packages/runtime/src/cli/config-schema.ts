/** `derecho config-schema`: prints the JSON Schema of cluster.json (for editors; checked in as src/config/cluster.schema.json). */
import { clusterJsonSchemaText } from '../config/json-schema.js';
import { parseCommand, printUsage, type Command } from './command.js';

const USAGE = `usage: derecho config-schema
  Prints the JSON Schema of cluster.json, generated from the configuration schema. Point a config
  file at it with "$schema" (the package ships it as src/config/cluster.schema.json) and editors
  complete and check the keys.
`;

function run(args: string[]): number {
  if (parseCommand(args, {}) === undefined) return printUsage({ usage: USAGE });
  process.stdout.write(clusterJsonSchemaText());
  return 0;
}

export const configSchemaCommand: Command = { name: 'derecho config-schema', usage: USAGE, run };
