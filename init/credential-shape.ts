/**
 * Keys that are really values. A secret whose keys and values were swapped in the console has its credentials
 * where the names should be; a name is logged, written to render.json and printed by `check`, so a key shaped like
 * a credential is treated as one: never shown, and refused unless the config names it in `spec.allowKeys` (a
 * name written in the config is not a secret).
 *
 * Only shapes that can also be variable names matter here (a key that is not a name is already never shown):
 * - the prefixes providers put on their tokens, followed by at least 16 token characters;
 * - AWS access key ids;
 * - a run of 20 or more hex digits (a hex key that happens to start with a letter);
 * - a run of 20 or more letters and digits that breaks into words as short as random text does (base62 keys
 *   without a known prefix); names written by people, CamelCase included, break into few long words.
 */

/** Token prefixes of major providers whose tokens are valid variable names (GitHub, Stripe, npm, ...). */
export const TOKEN_PREFIXES: readonly string[] = Object.freeze([
  'ghp_',
  'gho_',
  'ghu_',
  'ghs_',
  'ghr_',
  'github_pat_',
  'glpat_',
  'sk_live_',
  'sk_test_',
  'rk_live_',
  'rk_test_',
  'pk_live_',
  'pk_test_',
  'whsec_',
  'npm_',
  'pcsk_',
  'hf_',
  'dop_v1_',
  'doo_v1_',
  'dor_v1_',
  'shpat_',
  'shpss_',
  'shpca_',
  'shppa_',
  'lin_api_',
  'glsa_',
  'glc_',
  'xoxb_',
  'AIza',
]);

const AWS_KEY_ID = /^(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{16}$/;
const HEX_RUN = /^(?:[0-9a-f]{20,}|[0-9A-F]{20,})$/;

/** True when `key` has the shape of a credential rather than of a name a person wrote. */
export function looksLikeCredential(key: string): boolean {
  if (AWS_KEY_ID.test(key)) return true;
  for (const p of TOKEN_PREFIXES) {
    if (key.startsWith(p) && /^[A-Za-z0-9_-]{16,}$/.test(key.slice(p.length))) return true;
  }
  return key.split('_').some((run) => isRandomRun(run));
}

function isRandomRun(run: string): boolean {
  if (HEX_RUN.test(run) && /[0-9]/.test(run) && /[A-Fa-f]/.test(run)) return true;
  if (run.length < 20 || !/^[A-Za-z0-9]+$/.test(run)) return false;
  // Cut where a person's name has word breaks (CamelCase, digit groups): names written by people make few, long
  // words (about 3.3 characters or more); random base62 makes many short ones (1.9 on average, under 3 in 98%).
  const words = run.match(/[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+/g) ?? [];
  return run.length / words.length < 3;
}
