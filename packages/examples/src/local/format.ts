/** Printing helpers shared by the demos. */
import { formatHlc, formatVersion, type Hlc, type Version } from '@derecho-ts/runtime';

export function showReplies<R>(replies: ReadonlyMap<number, R>, show: (r: R) => string = (r) => JSON.stringify(r)): string {
  return `{ ${[...replies].sort(([a], [b]) => a - b).map(([node, r]) => `node ${node}: ${show(r)}`).join(', ')} }`;
}

export function showStamp(version: Version, hlc: Hlc): string {
  return `version ${formatVersion(version)}, hlc ${formatHlc(hlc)}`;
}
