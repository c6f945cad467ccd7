/** The demos `derecho demo <name>` and `derecho-examples <name>` run, each on a local process group. */
import { fooBarDemo } from './foo-bar/demo.js';
import { iotDemo } from './iot/demo.js';
import { kvDemo } from './kv/demo.js';

export const demos: Readonly<Record<string, () => Promise<number>>> = {
  'foo-bar': () => fooBarDemo(),
  kv: () => kvDemo(),
  iot: () => iotDemo(),
};
