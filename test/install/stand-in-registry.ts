/**
 * An npm registry stand-in on loopback for publish tests: every package is unknown (GET answers
 * 404, so everything is unpublished) and every publish (PUT of a packument with its tarball) is
 * accepted and recorded, in arrival order.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PublishedPackage {
  readonly name: string;
  readonly version: string;
  readonly manifest: Record<string, unknown> & { dependencies?: Record<string, string> };
  readonly tarballBytes: number;
}

export interface StandInRegistry {
  readonly url: string;
  readonly published: readonly PublishedPackage[];
  close(): Promise<void>;
}

interface Packument {
  name: string;
  versions: Record<string, PublishedPackage['manifest']>;
  _attachments: Record<string, { data: string }>;
}

export async function startStandInRegistry(): Promise<StandInRegistry> {
  const published: PublishedPackage[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'PUT') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
        return;
      }
      const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Packument;
      for (const [version, manifest] of Object.entries(doc.versions)) {
        const tarball = Object.values(doc._attachments)[0];
        published.push({ name: doc.name, version, manifest, tarballBytes: Buffer.from(tarball?.data ?? '', 'base64').length });
      }
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    published,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
