/**
 * `persistence.signing`: signed logs (persistent/signed-log.ts). This node's Ed25519 private key,
 * which signs every version its logs persist, and the public keys of the members, with which
 * anyone verifies a member's log. The key files are PEM (`openssl genpkey -algorithm ed25519`,
 * `openssl pkey -pubout`), relative to the config file.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { show } from '../layout/show.js';
import { isJsonObject } from '../util/json-object.js';
import type { ConfigChecker } from './config-checker.js';
import { nodeId } from './schema.js';

const SIGNING_KEYS = ['privateKeyFile', 'publicKeyFiles'];
const AT = 'persistence.signing';

export interface LogSigningConfig {
  /** Absolute path of this node's private key file. */
  readonly privateKeyFile: string;
  /** This node's Ed25519 private key. */
  readonly privateKey: KeyObject;
  /** Each member's Ed25519 public key, by node id. */
  readonly publicKeys: ReadonlyMap<number, KeyObject>;
}

/** Reads and parses one key file; undefined after reporting why it is unusable. */
function readKey(check: ConfigChecker, keyPath: string, file: unknown, type: 'private' | 'public'): { file: string; key: KeyObject } | undefined {
  const absolute = check.leaf<string>(keyPath, { type: 'path' }, file);
  if (absolute === undefined) return undefined;
  const text = check.readFile(keyPath, absolute);
  if (text === undefined) return undefined;
  let key: KeyObject;
  try {
    key = type === 'private' ? createPrivateKey(text) : createPublicKey(text);
  } catch (err) {
    check.add(keyPath, `${JSON.stringify(absolute)} holds no PEM ${type} key (${(err as Error).message}); make one with ${type === 'private' ? '`openssl genpkey -algorithm ed25519 -out <file>`' : '`openssl pkey -in <private key file> -pubout -out <file>`'}`);
    return undefined;
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    check.add(keyPath, `${JSON.stringify(absolute)} holds a${key.asymmetricKeyType === undefined ? ' secret' : `n ${key.asymmetricKeyType}`} key; log signatures use Ed25519 keys`);
    return undefined;
  }
  return { file: absolute, key };
}

/** The validated `persistence.signing` of node `ownId`, or undefined when absent or invalid. */
export function checkSigning(check: ConfigChecker, value: unknown, ownId: number | undefined): LogSigningConfig | undefined {
  if (value === undefined) return undefined;
  if (!isJsonObject(value)) {
    check.add(AT, `expected { "privateKeyFile": "<file>", "publicKeyFiles": { "<node id>": "<file>", ... } }, got ${show(value)}`);
    return undefined;
  }
  check.unknownKeys(value, AT, SIGNING_KEYS);
  if (value.privateKeyFile === undefined) check.add(`${AT}.privateKeyFile`, "required: this node's Ed25519 private key (PEM), which signs its logs");
  const own = value.privateKeyFile === undefined ? undefined : readKey(check, `${AT}.privateKeyFile`, value.privateKeyFile, 'private');
  const publicKeys = new Map<number, KeyObject>();
  const files = value.publicKeyFiles;
  if (files !== undefined && !isJsonObject(files)) {
    check.add(`${AT}.publicKeyFiles`, `expected an object of node id -> public key file, got ${show(files)}`);
  } else if (files !== undefined) {
    for (const [idText, file] of Object.entries(files)) {
      const keyPath = `${AT}.publicKeyFiles.${idText}`;
      const id = /^\d+$/.test(idText) ? check.leaf<number>(keyPath, nodeId, Number(idText)) : (check.add(keyPath, `${show(idText)} is not a node id (an integer from 0 to 4294967295)`), undefined);
      const parsed = readKey(check, keyPath, file, 'public');
      if (id !== undefined && parsed !== undefined) publicKeys.set(id, parsed.key);
    }
  }
  if (own === undefined) return undefined;
  const ownPublic = createPublicKey(own.key);
  const listed = ownId === undefined ? undefined : publicKeys.get(ownId);
  if (listed !== undefined && !listed.equals(ownPublic)) {
    check.add(`${AT}.publicKeyFiles.${ownId}`, `is not the public key of ${JSON.stringify(own.file)} (this node's private key): the others could not verify this node's logs`);
    return undefined;
  }
  if (ownId !== undefined) publicKeys.set(ownId, ownPublic);
  return { privateKeyFile: own.file, privateKey: own.key, publicKeys };
}
