/**
 * `layout` / `layoutFile`: the deployment's subgroup layout, parsed with the layout's JSON
 * format, then checked against the rest of the config: the profiles it names must be defined,
 * and the static members (if listed) must be enough to provision it.
 */
import * as path from 'node:path';
import { SubgroupAllocator } from '../layout/allocate.js';
import { InadequateLayoutError } from '../layout/errors.js';
import { parseLayoutJson, type ParsedLayout } from '../layout/json.js';
import { show } from '../layout/show.js';
import { DEFAULT_PROFILE, type GroupLayout } from '../layout/spec.js';
import { didYouMean } from '../util/did-you-mean.js';
import type { JsonObject } from '../util/json-object.js';
import type { ConfigChecker } from './config-checker.js';
import { JsonSyntaxError, parseJsonText } from './json-text.js';
import type { MemberAddress, MulticastProfile } from './schema.js';

/** The layout `config` gives (inline or by file), or undefined when it gives none or it is invalid. */
export function checkLayout(check: ConfigChecker, config: JsonObject, profiles: Readonly<Record<string, MulticastProfile>>, members: readonly MemberAddress[] | undefined): GroupLayout | undefined {
  if (config.layout !== undefined && config.layoutFile !== undefined) {
    check.add('layoutFile', 'give layout or layoutFile, not both');
    return undefined;
  }
  if (config.layout === undefined && config.layoutFile === undefined) return undefined;
  const source = layoutJson(check, config);
  if (source === undefined) return undefined;
  const parsed = parseLayoutJson(source.json, source.root);
  for (const issue of parsed.issues) check.addAt(issue.path, issue.message);
  if (parsed.issues.length > 0) return undefined;
  checkProfilesNamed(check, parsed, profiles);
  if (members !== undefined && check.issues.length === 0) checkProvisionable(check, parsed.layout, members, source.root);
  return parsed.layout;
}

/** The layout's JSON and the root its problems are named under, or undefined after reporting why there is none. */
function layoutJson(check: ConfigChecker, config: JsonObject): { json: unknown; root: string } | undefined {
  if (config.layout !== undefined) return { json: config.layout, root: 'config.layout' };
  const file = config.layoutFile;
  if (typeof file !== 'string' || file === '') {
    check.add('layoutFile', `expected a non-empty path, got ${show(file)}`);
    return undefined;
  }
  const text = check.readFile('layoutFile', path.resolve(check.baseDir, file));
  if (text === undefined) return undefined;
  try {
    return { json: parseJsonText(text, file), root: file };
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    check.add('layoutFile', err.message);
    return undefined;
  }
}

/** Every profile a shard names must be `default` or defined under `profiles`. */
function checkProfilesNamed(check: ConfigChecker, parsed: ParsedLayout, profiles: Readonly<Record<string, MulticastProfile>>): void {
  const known = Object.keys(profiles);
  const checkProfile = (profile: string, at: string): void => {
    if (profile === DEFAULT_PROFILE || profile in profiles) return;
    check.addAt(at, `unknown profile "${profile}"; define it under "profiles"${known.length > 0 ? ` (defined: ${known.join(', ')})` : ''}${didYouMean(profile, known)}`);
  };
  parsed.layout.forEach(({ layout: l }, t) => {
    if (l.kind === 'sharded') {
      l.subgroups.forEach((sg, g) => sg.shards.forEach((shard, s) => checkProfile(shard.profile, parsed.paths.shardField(t, g, s, 'profile'))));
    } else {
      checkProfile(l.profile, parsed.paths.entryField(t, 'profile'));
    }
  });
}

/** The static members must be enough for the layout's first view, or the group could never start. */
function checkProvisionable(check: ConfigChecker, layout: GroupLayout, members: readonly MemberAddress[], root: string): void {
  try {
    new SubgroupAllocator(layout).allocate(members.map((m) => m.id));
  } catch (err) {
    if (!(err instanceof InadequateLayoutError)) throw err;
    check.addAt(root, `cluster.members lists ${members.length} node${members.length === 1 ? '' : 's'} but the layout needs at least ${err.nodesNeeded}, so the group could never start`);
  }
}
