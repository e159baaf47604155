/**
 * Plans a change of a role besides production (roles.ts): a canary or a shadow set, replaced or
 * ended, as one commit on the role's standing branch, as a promotion is planned (plan.ts).
 */
import { RegistryError } from '../errors.ts';
import { canonicalJson } from '../json.ts';
import { percent, ref, roleBranch, roleMessage, roleTitle, type RoleTarget } from './messages.ts';
import { paths } from './paths.ts';
import type { BranchPlan } from './plan.ts';
import { cardOf, type ModelState } from './registry.ts';
import {
  checkWeight,
  pinsFor,
  rolesOf,
  type Canary,
  type RoleChange,
  type Roles,
  type Shadow,
} from './roles.ts';

/** Nothing to change: the role is set so already, or there is no role to end. */
export interface RoleUnchanged {
  status: 'unchanged';
  model: string;
  reason: string;
}

function targetOf(role: Canary | Shadow | undefined): RoleTarget {
  return role === undefined ? null : role;
}

/**
 * Plans a role change as one commit on the role's standing branch (`pinml/canary-<model>`,
 * `pinml/shadow-<model>`). A canary or a shadow is a registered version other than
 * production, and needs a production version beside it; a canary's weight is in (0, 1).
 */
export function planRoleChange(state: ModelState, change: RoleChange): BranchPlan | RoleUnchanged {
  const { model } = state;
  const { role } = change;
  const roles = rolesOf(state.pins);
  const from = targetOf(roles[role]);
  let to: { version: number; weight?: number } | undefined;
  if ('off' in change) {
    if (from === null) return { status: 'unchanged', model, reason: `${model} has no ${role}` };
  } else {
    const card = cardOf(state, change.version);
    if (roles.production === null) {
      throw new RegistryError(
        `${model} has no production version: promote one before giving it a ${role}`,
        { model },
      );
    }
    if (change.version === roles.production) {
      throw new RegistryError(
        `${ref(model, change.version)} is production already: a ${role} is another version ` +
          `(to replace production, promote a version)`,
        { model, version: change.version },
      );
    }
    if (change.role === 'canary') {
      checkWeight(change.weight);
      if (!card.gate.passed) {
        throw new RegistryError(`${ref(model, change.version)} did not pass its gate and cannot answer traffic`);
      }
    }
    to =
      change.role === 'canary' ? { version: change.version, weight: change.weight } : { version: change.version };
    if (from?.version === to.version && from.weight === to.weight) {
      return { status: 'unchanged', model, reason: `${ref(model, to.version)} is the ${role}${to.weight === undefined ? '' : ` at ${percent(to.weight)}`} already` };
    }
  }
  const next: Roles = { ...roles };
  delete next[role];
  const pins = pinsFor(model, to === undefined ? next : { ...next, [role]: to });
  return {
    kind: role,
    model,
    branch: roleBranch(role, model),
    base: state.commit,
    title: roleTitle(role, model, targetOf(to), from),
    message: roleMessage({ role, model, to: targetOf(to), from, production: roles.production }),
    from: from?.version ?? null,
    to: to?.version ?? null,
    files: [{ path: paths.pins(model), content: canonicalJson(pins) }],
  };
}
