import type { MemberOutput } from '../core/member/member-io.js';

/** An output as a log line: its kind and fields, payloads and tables by size only. */
export function describeOutput(o: MemberOutput): string {
  const text = JSON.stringify(o, (_, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return `<${v.length} bytes>`;
    if (v instanceof ArrayBuffer) return `<${v.byteLength}-byte table>`;
    return v;
  });
  return text.length > 400 ? `${text.slice(0, 400)}...` : text;
}
