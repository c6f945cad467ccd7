/**
 * The OpenAPI 3.1 document of the HTTP gateway, from the wire schema: one operation per
 * replicated method and HTTP verb (`POST` for ordered and p2p calls, `GET` for p2p reads), with
 * the same JSON Schemas the gateway validates requests against. `derecho-codegen --openapi`
 * writes it from the generated schema; a gateway serves it at `/openapi.json`.
 */
import type { WireSchema } from '../rpc/marshal-schema.js';
import { jsonSchemaOf, paramsSchema, type JsonSchema } from './wire-json.js';

const ref = (name: string): string => `#/components/schemas/${name}`;

const errorSchema: JsonSchema = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
  required: ['statusCode', 'error', 'message'],
};

/** The OpenAPI document of a gateway serving `schema`. */
export function openApiDocument(schema: WireSchema, info: { title?: string; version?: string } = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const shardParam = { name: 'shard', in: 'path', required: true, schema: { type: 'integer', minimum: 0 }, description: 'the shard of the subgroup' };
  const responses = (result: JsonSchema, ordered: boolean): Record<string, unknown> => ({
    200: {
      description: ordered ? "the call's result at the shard's replicas, and the version it created" : 'the result at one replica',
      content: {
        'application/json': {
          schema: ordered
            ? { type: 'object', properties: { result: result, version: { type: 'string', description: 'the version the call created (a bigint, decimal)' }, replies: { type: 'integer' } }, required: ['result', 'version'] }
            : { type: 'object', properties: { result: result, node: { type: 'integer' } }, required: ['result'] },
        },
      },
    },
    400: { description: 'malformed JSON or arguments that do not match the method (the message names the field)', content: { 'application/json': { schema: { $ref: ref('Error') } } } },
    404: { description: 'no such class, method or shard', content: { 'application/json': { schema: { $ref: ref('Error') } } } },
    413: { description: 'the body is larger than gateway.maxBodyBytes', content: { 'application/json': { schema: { $ref: ref('Error') } } } },
    422: { description: 'the method threw at a replica (its name and message)', content: { 'application/json': { schema: { $ref: ref('Error') } } } },
    503: { description: 'the group cannot take the call now (no view, or a member failed during the call): retry', content: { 'application/json': { schema: { $ref: ref('Error') } } } },
  });
  for (const [className, wireClass] of Object.entries(schema.classes)) {
    for (const [methodName, method] of Object.entries(wireClass.methods)) {
      const path = `/v1/${className}/{shard}/${methodName}`;
      const body = paramsSchema(method.params, schema, ref);
      const result = jsonSchemaOf(method.result, schema, ref);
      const ops: Record<string, unknown> = {};
      ops.post = {
        operationId: `${className}_${methodName}`,
        summary: method.ordered ? `${className}.${methodName}: an ordered call (every replica of the shard, in the total order)` : `${className}.${methodName}: a p2p call (one replica)`,
        parameters: [
          shardParam,
          ...(method.ordered ? [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', minLength: 1, maxLength: 256 }, description: 'a retry with the same key is applied once and gets the first reply' }] : []),
        ],
        requestBody: { required: method.params.some((p) => !p.optional), content: { 'application/json': { schema: body } } },
        responses: responses(result, method.ordered),
      };
      if (method.p2p) {
        ops.get = {
          operationId: `${className}_${methodName}_read`,
          summary: `${className}.${methodName} at one replica (a p2p read); arguments in the query, JSON-encoded unless strings or numbers`,
          parameters: [shardParam, ...method.params.map((p) => ({ name: p.name, in: 'query', required: !p.optional, schema: jsonSchemaOf(p.type, schema, ref) }))],
          responses: responses(result, false),
        };
      }
      paths[path] = ops;
    }
  }
  const schemas: Record<string, JsonSchema> = { Error: errorSchema };
  for (const [name, type] of Object.entries(schema.types)) schemas[name] = jsonSchemaOf(type, schema, ref);
  return {
    openapi: '3.1.0',
    info: { title: info.title ?? 'derecho-ts gateway', version: info.version ?? schema.hash.slice(0, 12), description: `Replicated objects of wire schema ${schema.hash}` },
    paths: {
      ...paths,
      '/healthz': { get: { summary: 'the gateway process is up', responses: { 200: { description: 'up' } } } },
      '/readyz': { get: { summary: 'this member is in an installed view and can take calls', responses: { 200: { description: 'ready' }, 503: { description: 'not ready, with why' } } } },
    },
    components: { schemas },
  };
}
