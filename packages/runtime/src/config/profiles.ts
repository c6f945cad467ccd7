/** `profiles`: named multicast settings, each the multicast section with some profile keys overridden. */
import { show } from '../layout/show.js';
import { DEFAULT_PROFILE } from '../layout/spec.js';
import { didYouMean } from '../util/did-you-mean.js';
import { isJsonObject } from '../util/json-object.js';
import type { ConfigChecker } from './config-checker.js';
import { checkKeyOrder, PROFILE_RULES } from './key-order-rules.js';
import { PROFILE_KEYS, SECTIONS, type DerechoConfig, type LeafSpec, type MulticastProfile } from './schema.js';

/** The named profiles in `value` (the raw `profiles`), each complete (unset keys from `multicast`). */
export function checkProfiles(check: ConfigChecker, value: unknown, multicast: MulticastProfile): Record<string, MulticastProfile> {
  const profiles: Record<string, MulticastProfile> = {};
  if (value === undefined) return profiles;
  if (!isJsonObject(value)) {
    check.add('profiles', `expected an object of named profiles, got ${show(value)}`);
    return profiles;
  }
  for (const [profileName, body] of Object.entries(value)) {
    const at = `profiles.${profileName}`;
    if (profileName.toLowerCase() === DEFAULT_PROFILE) {
      check.add(at, 'the default profile is the multicast section itself; set these values there');
      continue;
    }
    if (!isJsonObject(body)) {
      check.add(at, `expected an object of multicast settings, got ${show(body)}`);
      continue;
    }
    const given: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(body)) {
      const spec = (PROFILE_KEYS as Record<string, LeafSpec>)[key];
      if (spec === undefined) {
        const inMulticast = key in SECTIONS.multicast;
        check.add(`${at}.${key}`, inMulticast ? 'not a per-profile setting; set it in the multicast section' : `unknown key${didYouMean(key, Object.keys(PROFILE_KEYS))}`);
        continue;
      }
      given[key] = check.leaf(`${at}.${key}`, spec.kind, v);
    }
    const profile: MulticastProfile = { ...pickProfile(multicast), ...stripUndefined(given) };
    checkKeyOrder(check, at, PROFILE_RULES, profile as unknown as Record<string, unknown>, given);
    profiles[profileName] = profile;
  }
  return profiles;
}

/** The profile keys of the multicast section: the `default` profile. */
export function pickProfile(multicast: MulticastProfile): MulticastProfile {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(PROFILE_KEYS)) out[key] = multicast[key as keyof MulticastProfile];
  return out as unknown as MulticastProfile;
}

function stripUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

/** The multicast settings of a shard's profile ('default' = the multicast section). */
export function profileSettings(config: Pick<DerechoConfig, 'multicast' | 'profiles'>, profile: string): MulticastProfile {
  if (profile === DEFAULT_PROFILE) return pickProfile(config.multicast);
  const found = config.profiles[profile];
  if (found === undefined) throw new Error(`unknown multicast profile ${JSON.stringify(profile)}; defined: default, ${Object.keys(config.profiles).join(', ')}`);
  return found;
}
