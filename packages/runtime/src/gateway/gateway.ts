/**
 * The HTTP/JSON gateway a member serves when `gateway.port` is configured: replicated methods as
 * HTTP endpoints, generated from the wire schema.
 *
 *   POST /v1/<Class>/<shard>/<method>   body: the arguments as a JSON object by parameter name
 *   GET  /v1/<Class>/<shard>/<method>?param=...   @P2P() methods (JSON-encoded unless a string or number)
 *   GET  /openapi.json, /healthz, /readyz
 *
 * Every request is checked here, before any member sees it: fastify parses the JSON and
 * validates it against the method's JSON Schema (400 naming the field), an unknown class, method
 * or shard is a 404 naming what exists, and a body over `gateway.maxBodyBytes` is a 413. An
 * ordered call with an `Idempotency-Key` header carries a call id derived from the key, so a
 * retried request is applied once and answered with the first reply (see rpc/call-dedup.ts).
 * Ordered calls go into the total order from this member, so they need a gateway on a member of
 * the shard (421 otherwise, naming the members); p2p calls go to this member when it holds the
 * shard, else to the shard's first member.
 */
import { createHash } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { GroupView } from '../core/membership/group-view.js';
import type { CallId } from '../rpc/call-id.js';
import type { MethodCodec, SchemaCodec } from '../rpc/marshal.js';
import type { NodeId, QueryResults } from '../rpc/query-results-api.js';
import { NodeRemovedError, RemoteError, SenderRemovedError } from '../rpc/rpc-errors.js';
import type { Logger } from '../util/logger.js';
import { openApiDocument } from './openapi.js';
import { fromJson, jsonSchemaOf, paramsSchema, toJson } from './wire-json.js';

/** What the gateway needs from its member (Group supplies it). */
export interface GatewayBackend {
  readonly nodeId: NodeId;
  readonly codec: SchemaCodec;
  readonly log: Logger;
  /** The installed view (undefined: none yet, or closed). */
  view(): GroupView | undefined;
  /** Why the member cannot take calls now (undefined: it can). */
  notReady(): string | undefined;
  callOrdered(subgroupId: number, codec: MethodCodec, args: readonly unknown[], callId?: CallId): QueryResults<unknown>;
  callP2P(subgroupId: number, target: NodeId, codec: MethodCodec, args: readonly unknown[]): Promise<unknown>;
}

export interface GatewayOptions {
  readonly port: number;
  readonly host: string;
  readonly maxBodyBytes: number;
}

/** An HTTP failure with the reason the client reads. */
class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 421: 'Misdirected Request', 422: 'Unprocessable Entity', 500: 'Internal Server Error', 503: 'Service Unavailable' };

/** Idempotency keys become call ids: one client per key (hashed to bound its size), one call. */
function callIdOfKey(key: string): CallId {
  return { client: `http:${createHash('sha256').update(key).digest('base64url')}`, seq: 1 };
}

const SCALAR_QUERY = new Set(['string', 'number', 'boolean', 'bigint', 'literal']);

export class Gateway {
  private constructor(
    private readonly app: FastifyInstance,
    /** The port it listens on (the configured one, or the one the OS chose for port 0). */
    readonly port: number,
  ) {}

  static async start(backend: GatewayBackend, options: GatewayOptions): Promise<Gateway> {
    const app = Fastify({ bodyLimit: options.maxBodyBytes, logger: false, ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } } });
    // JSON only: a text/plain body would reach validation as a string ("body must be object").
    app.removeContentTypeParser('text/plain');
    const schema = backend.codec.schema;
    const openapi = openApiDocument(schema);

    app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
      const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
      if (statusCode >= 500 && !(error instanceof HttpError)) backend.log.error({ err: error.message }, 'gateway: a request failed: %s', error.message);
      const message = statusCode === 415 ? `the body must be JSON (content-type: application/json), got content-type ${JSON.stringify(request.headers['content-type'] ?? 'none')}` : error.message;
      void reply.code(statusCode).send({ statusCode, error: STATUS_TEXT[statusCode] ?? 'Error', message });
    });
    app.setNotFoundHandler((request, reply) => {
      void reply.code(404).send({ statusCode: 404, error: 'Not Found', message: notFoundReason(request.method, request.url, backend.codec) });
    });

    app.get('/healthz', async () => ({ status: 'up', node: backend.nodeId }));
    app.get('/readyz', async (_request, reply) => {
      const why = backend.notReady();
      if (why === undefined) return { status: 'ready', node: backend.nodeId, vid: backend.view()?.vid };
      return reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', message: why });
    });
    app.get('/openapi.json', async () => openapi);

    for (const [className, wireClass] of Object.entries(schema.classes)) {
      for (const methodName of Object.keys(wireClass.methods)) {
        const codec = backend.codec.method(className, methodName);
        const url = `/v1/${className}/:shard/${methodName}`;
        const params = codec.method.params;
        app.post(url, { schema: { body: paramsSchema(params, schema) } }, async (request, reply) => {
          const args = params.map((p) => fromJson((request.body as Record<string, unknown> | null)?.[p.name] ?? null, p.type, schema));
          return call(backend, codec, shardOf(request), args, request, reply);
        });
        if (!codec.method.p2p) continue;
        // Query values arrive as strings: non-scalar parameters are JSON text, parsed before validation.
        const query: Record<string, unknown> = { type: 'object', properties: Object.fromEntries(params.map((p) => [p.name, jsonSchemaOf(p.type, schema)])), required: params.filter((p) => !p.optional).map((p) => p.name), additionalProperties: false };
        app.get(url, {
          schema: { querystring: query },
          preValidation: async (request) => {
            const q = request.query as Record<string, unknown>;
            for (const p of params) {
              const raw = q[p.name];
              if (typeof raw !== 'string' || p.type.t === 'string') continue;
              if (p.type.t === 'number') {
                if (raw.trim() !== '' && Number.isFinite(Number(raw))) q[p.name] = Number(raw);
              } else if (!SCALAR_QUERY.has(p.type.t) || p.type.t === 'boolean') {
                try {
                  q[p.name] = JSON.parse(raw) as unknown;
                } catch {
                  throw new HttpError(400, `querystring/${p.name} must be JSON (the parameter is ${p.type.t}), got ${JSON.stringify(raw.slice(0, 80))}`);
                }
              }
            }
          },
          handler: async (request, reply) => {
            const q = request.query as Record<string, unknown>;
            const args = params.map((p) => fromJson(q[p.name] ?? null, p.type, schema));
            return call(backend, codec, shardOf(request), args, request, reply, 'p2p');
          },
        });
      }
    }

    await app.listen({ port: options.port, host: options.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : options.port;
    backend.log.info({ port, host: options.host }, 'gateway listening on http://%s:%d', options.host, port);
    return new Gateway(app, port);
  }

  /** Stops accepting requests and closes idle keep-alive connections; resolves once closed. */
  async close(): Promise<void> {
    await this.app.close();
  }
}

function shardOf(request: FastifyRequest): number {
  const text = (request.params as { shard: string }).shard;
  const shard = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(shard)) throw new HttpError(404, `the shard in the path must be a shard number (0, 1, ...), got ${JSON.stringify(text)}`);
  return shard;
}

async function call(backend: GatewayBackend, codec: MethodCodec, shard: number, args: unknown[], request: FastifyRequest, reply: FastifyReply, kind?: 'p2p'): Promise<unknown> {
  const why = backend.notReady();
  const view = backend.view();
  if (why !== undefined || view === undefined) throw new HttpError(503, `this member cannot take calls now: ${why ?? 'no view is installed'}; retry`);
  const subgroupId = view.subgroups.findIndex((s) => s.type === codec.className && s.index === 0);
  if (subgroupId < 0) throw new HttpError(404, `this group has no subgroup of ${codec.className} in view ${view.vid}`);
  const shards = view.subgroups[subgroupId].shards;
  if (shard >= shards.length) throw new HttpError(404, `${codec.className} has shards 0 to ${shards.length - 1}, not ${shard}`);
  const members = shards[shard].members;
  const ordered = kind !== 'p2p' && (codec.method.ordered || !codec.method.p2p);
  try {
    if (ordered) {
      if (!members.includes(backend.nodeId)) {
        throw new HttpError(421, `this gateway (node ${backend.nodeId}) is not a member of ${codec.className} shard ${shard}; send ordered calls to the gateway of one of its members: nodes ${members.join(', ')}`);
      }
      const key = request.headers['idempotency-key'];
      if (Array.isArray(key)) throw new HttpError(400, 'give one Idempotency-Key header');
      if (key !== undefined && (key.length === 0 || key.length > 256)) throw new HttpError(400, `Idempotency-Key must be 1 to 256 characters, got ${key.length}`);
      const results = backend.callOrdered(subgroupId, codec, args, key === undefined ? undefined : callIdOfKey(key));
      const [replies, version] = await Promise.all([results.all(), results.version]);
      const result = replies.has(backend.nodeId) ? replies.get(backend.nodeId) : replies.values().next().value;
      return { result: toJson(result), version: String(version), replies: replies.size };
    }
    const target = members.includes(backend.nodeId) ? backend.nodeId : members[0];
    const result = await backend.callP2P(subgroupId, target, codec, args);
    return { result: toJson(result), node: target };
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (err instanceof RemoteError) throw new HttpError(422, `${codec.className}.${codec.methodName} threw at node ${err.nodeId}: ${err.remoteName}: ${err.remoteMessage}`);
    if (err instanceof NodeRemovedError || err instanceof SenderRemovedError) throw new HttpError(503, `${err.message}; retry${ordered ? ' (with an Idempotency-Key, a retry applies once)' : ''}`);
    void reply;
    throw err;
  }
}

/** Why a request matched no route: the class, method or verb that does not exist, with what does. */
function notFoundReason(method: string, url: string, codec: SchemaCodec): string {
  const path = url.split('?')[0];
  const parts = path.split('/').filter((p) => p.length > 0);
  const classes = Object.keys(codec.schema.classes);
  if (parts[0] !== 'v1' || parts.length !== 4) return `no route ${method} ${path}: calls are POST /v1/<Class>/<shard>/<method> (classes: ${classes.join(', ')}); also GET /openapi.json, /healthz, /readyz`;
  const wireClass = codec.schema.classes[parts[1]];
  if (wireClass === undefined) return `no replicated class '${parts[1]}' (classes: ${classes.join(', ')})`;
  const m = wireClass.methods[parts[3]];
  if (m === undefined) return `${parts[1]} has no replicated method '${parts[3]}' (methods: ${Object.keys(wireClass.methods).join(', ')})`;
  if (method === 'GET' && !m.p2p) return `${parts[1]}.${parts[3]} is not a @P2P() method: GET reads only @P2P() methods; POST it`;
  return `no route ${method} ${path}: use POST${m.p2p ? ' or GET' : ''}`;
}
