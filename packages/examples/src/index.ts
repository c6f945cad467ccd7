export { Foo, Bar } from './foo-bar/objects.js';
export { KVStore, type PutResult, type OrderedPut } from './kv/kv-store.js';
export { KvClient } from './kv/client.js';
export { DurableKV } from './durable-kv/durable-kv.js';
export { shardForKey } from './kv/routing.js';
export { SmartMemory, DEFAULT_RULES, type Reading, type SensorModel, type Alert, type IngestResult, type SmartMemoryRules } from './iot/smart-memory.js';
export { RpcProbe, type Stamp } from './testing/rpc-probe.js';
export { methodIds, wireSchema } from './derecho.generated.js';
export { runLocalGroup, type LocalGroupOptions, type MemberConfig } from './local/local-group.js';
