/** Loads the compiled addon and describes its native surface (used only inside this package). */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { AddonLoadError } from './errors.js';
import type { EndpointStats, LogLine, P2PMessage, PeerFailure, RdmcMessage, RegionChange, TlsOptions } from './types.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), import.meta.url.includes('/dist/') ? '../..' : '..');

export interface NativePollResult {
  writes: number;
  changed?: RegionChange[];
  p2p?: P2PMessage[];
  rdmc?: Omit<RdmcMessage, 'release'>[];
  failures?: PeerFailure[];
  logs?: LogLine[];
  connected?: number[];
}

export interface NativeEndpoint {
  port(): number;
  provider(): string;
  connect(nodeId: number, host: string, port: number): void;
  createRegion(regionId: number, rowBytes: number, members: number[], initialContents?: Uint8Array): { buffer: ArrayBuffer; myRow: number; heldApplied: number };
  closeRegion(regionId: number): void;
  /** True when the write was batched and waits for flush(). */
  put(regionId: number, ranges: ReadonlyArray<readonly [number, number]>, targets: readonly number[], completion: boolean): boolean;
  flush(): void;
  sendP2P(nodeId: number, data: Uint8Array | readonly Uint8Array[]): boolean;
  /** undefined when nothing arrived. */
  poll(receiveInline?: boolean): NativePollResult | undefined;
  createRdmcGroup(groupId: number, members: number[], blockBytes: number): void;
  destroyRdmcGroup(groupId: number): void;
  rdmcSend(groupId: number, data: Uint8Array): void;
  failPeer(nodeId: number, reason: string, routine?: boolean): void;
  connectedPeers(): number[];
  stats(): EndpointStats;
  /**
   * Test hook: feeds `count` generated frames of `frameType` (1..9, native/wire.h), mutated
   * structure-aware, through the real frame handlers on the I/O thread; blocks until done.
   */
  _fuzzForTest(
    frameType: number,
    count: number,
    seed: number,
    authenticated: boolean,
    targets: { nodeIds?: number[]; groupIds?: number[]; regionIds?: number[] },
  ): { frames: number; connections: number; dropped: number };
  ref(): void;
  unref(): void;
  close(): void;
}

export interface NativeEndpointOptions {
  nodeId: number;
  provider?: string;
  host?: string;
  port?: number;
  buildHash: string;
  secret: string | readonly string[];
  tls?: TlsOptions;
  heartbeatTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  maxHeldBytes?: number;
  maxPendingHandshakes?: number;
  handshakesPerSecondPerAddress?: number;
  lingerMs?: number;
  batchPuts?: boolean;
  busyPollWindowMs?: number;
  receiveOnJsThread?: boolean;
  blockedLoopLimitMs?: number;
  onWake: () => void;
}

export interface NativeAddon {
  providers: string[];
  protocolVersion: number;
  Endpoint: new (options: NativeEndpointOptions) => NativeEndpoint;
  /** Detaches a received RDMC buffer and recycles its memory; false if it is not one. */
  releaseRdmcBuffer(buffer: ArrayBuffer): boolean;
  /** `authenticated: false` applies the rules for a peer that has not proved the secret yet. */
  _decodeFramesForTest(bytes: Uint8Array, chunkBytes?: number, authenticated?: boolean): { frames: number; error: string | null; complete: boolean };
  _rdmcScheduleForTest(members: number, blocks: number): { steps: number; error: string | null };
  _hmacSha256ForTest(key: Uint8Array, data: Uint8Array): Uint8Array;
  _sha256ForTest(data: Uint8Array): Uint8Array;
  rawListen(host?: string): { fd: number; port: number };
  /** Blocks the calling thread until the client disconnects. */
  rawServe(fd: number, mode: 'echo' | 'sink', msgBytes?: number): void;
  rawClose(fd: number): void;
  rawPingPong(host: string, port: number, msgBytes: number, iterations: number): Float64Array;
  rawStream(host: string, port: number, totalBytes: number): number;
}

let cached: NativeAddon | undefined;

/**
 * Loads the compiled addon; a clear error when it was not built (npm 11 skips a dependency's install
 * script until the project approves it in `allowScripts`).
 */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  // DERECHO_NATIVE_BUILD_DIR selects another build of the addon (build-asan: the sanitizer build).
  const path = join(resolve(packageRoot, process.env.DERECHO_NATIVE_BUILD_DIR ?? 'build'), 'Release', 'derecho_native.node');
  try {
    cached = require(path) as NativeAddon;
    return cached;
  } catch (err) {
    throw new AddonLoadError(
      `the native data plane of @derecho-ts/rdma-native is not built (${path} did not load: ${(err as Error).message}). ` +
        'Build it with `npm rebuild @derecho-ts/rdma-native` (it needs python3, make and a C++17 compiler). ' +
        'npm 11 skips install scripts of dependencies it has not been allowed to run: add ' +
        '"allowScripts": { "@derecho-ts/rdma-native": true } to your package.json so `npm install` builds it.',
      { cause: err },
    );
  }
}
