/**
 * security.tls: the three PEM files TLS needs, read and checked when the configuration is
 * validated, so a node with a broken certificate setup stops at startup with the key path and
 * what to fix, instead of failing every connection later. The native layer checks again (it is
 * the authority on what OpenSSL accepts); these checks are the ones an operator gets wrong.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import * as path from 'node:path';
import { show } from '../layout/show.js';
import { isJsonObject } from '../util/json-object.js';
import type { ConfigChecker } from './config-checker.js';
import type { TlsFiles } from './schema.js';

/** The subjectAltName URI prefix that carries a node id (native/tls_session.h). */
export const CERT_NODE_ID_URI_PREFIX = 'derecho:node:';

const TLS_KEYS = ['caFile', 'certFile', 'keyFile'] as const;

/** The node ids a certificate's subjectAltName URIs carry (derecho:node:<id>). */
export function certificateNodeIds(cert: X509Certificate): number[] {
  const ids: number[] = [];
  // Node formats the extension as "URI:derecho:node:3, DNS:..." (values with commas are quoted).
  for (const entry of (cert.subjectAltName ?? '').split(/,\s*/)) {
    const m = /^URI:derecho:node:(\d{1,10})$/.exec(entry.trim());
    if (m && Number(m[1]) < 0xffffffff) ids.push(Number(m[1]));
  }
  return ids;
}

/** Checks security.tls (undefined when absent); `nodeId` is this node's, when known. */
export function checkTls(check: ConfigChecker, given: unknown, nodeId: number | undefined): TlsFiles | undefined {
  if (given === undefined) return undefined;
  if (!isJsonObject(given)) {
    check.add('security.tls', `expected an object { "caFile", "certFile", "keyFile" }, got ${show(given)}`);
    return undefined;
  }
  check.unknownKeys(given, 'security.tls', TLS_KEYS);
  const paths: Partial<Record<(typeof TLS_KEYS)[number], string>> = {};
  const texts: Partial<Record<(typeof TLS_KEYS)[number], string>> = {};
  for (const key of TLS_KEYS) {
    const value = given[key];
    if (typeof value !== 'string' || value.length === 0) {
      check.add(`security.tls.${key}`, value === undefined ? 'required: the path of a PEM file' : `expected the path of a PEM file, got ${show(value)}`);
      continue;
    }
    paths[key] = path.resolve(check.baseDir, value);
    texts[key] = check.readFile(`security.tls.${key}`, paths[key]);
  }
  if (texts.caFile === undefined || texts.certFile === undefined || texts.keyFile === undefined) return undefined;
  let ok = true;
  const parse = <T>(key: string, what: string, fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      check.add(`security.tls.${key}`, `${paths[key as keyof typeof paths]} is not ${what}: ${(err as Error).message}`);
      ok = false;
      return undefined;
    }
  };
  parse('caFile', 'a PEM certificate', () => new X509Certificate(texts.caFile!));
  const cert = parse('certFile', 'a PEM certificate', () => new X509Certificate(texts.certFile!));
  const key = parse('keyFile', 'an unencrypted PEM private key', () => createPrivateKey(texts.keyFile!));
  if (cert !== undefined && key !== undefined && !cert.checkPrivateKey(key)) {
    check.add('security.tls.keyFile', `the key in ${paths.keyFile} does not match the certificate in ${paths.certFile}; give the key the certificate was issued for`);
    ok = false;
  }
  if (cert !== undefined && nodeId !== undefined) {
    const ids = certificateNodeIds(cert);
    if (!ids.includes(nodeId)) {
      check.add('security.tls.certFile', `the certificate in ${paths.certFile} ${ids.length === 0 ? 'carries no node id' : `is for node ${ids.join(', ')}`}, but this is node ${nodeId}: issue it with the subjectAltName URI ${CERT_NODE_ID_URI_PREFIX}${nodeId}`);
      ok = false;
    }
  }
  if (!ok) return undefined;
  return { caFile: paths.caFile!, certFile: paths.certFile!, keyFile: paths.keyFile!, ca: texts.caFile, cert: texts.certFile, key: texts.keyFile };
}
