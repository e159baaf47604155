/**
 * The roles `pins.json` names besides production: a canary answering a share of the traffic,
 * and a shadow that predicts every request without answering. Pure: the pins a role change, a
 * promotion or a rollback of the production field writes, by the writer's rule (format 2 with
 * a canary or a shadow, format 1 with neither, so production-only diffs stay as they were).
 */
import { UsageError } from '../errors.ts';
import {
  PINS_FORMAT_VERSION,
  PINS_ROLES_FORMAT_VERSION,
  pinsSchema,
  type PinRoles,
  type Pins,
} from './schema.ts';

/** A role besides production. */
export type Role = 'canary' | 'shadow';

export type Canary = NonNullable<PinRoles['canary']>;
export type Shadow = NonNullable<PinRoles['shadow']>;

/** Every role `pins.json` names, whatever its format. */
export interface Roles {
  production: number | null;
  canary?: Canary;
  shadow?: Shadow;
}

/** A change of one role: set (or replace) it, or end it (`--off`). */
export type RoleChange =
  | { role: 'canary'; version: number; weight: number }
  | { role: 'shadow'; version: number }
  | { role: Role; off: true };

/** The roles of a pins file; a missing file pins nothing. */
export function rolesOf(pins: Pins | undefined): Roles {
  if (pins === undefined) return { production: null };
  const { canary, shadow } = pins as PinRoles;
  return {
    production: pins.production,
    ...(canary ? { canary } : {}),
    ...(shadow ? { shadow } : {}),
  };
}

/** The pins file of `roles`: format 2 when it names a canary or a shadow, else format 1. */
export function pinsFor(model: string, roles: Roles): Pins {
  const { production, canary, shadow } = roles;
  return pinsSchema.parse(
    canary || shadow
      ? {
          formatVersion: PINS_ROLES_FORMAT_VERSION,
          model,
          production,
          ...(canary ? { canary } : {}),
          ...(shadow ? { shadow } : {}),
        }
      : { formatVersion: PINS_FORMAT_VERSION, model, production },
  );
}

/** The roles `roles` has and `next` no longer has, by version: what a change ends. */
function ended(roles: Roles, next: Roles): { canary?: number; shadow?: number } {
  return {
    ...(roles.canary && !next.canary ? { canary: roles.canary.version } : {}),
    ...(roles.shadow && !next.shadow ? { shadow: roles.shadow.version } : {}),
  };
}

/**
 * The roles after promoting `version`: the canary ends (whatever it was, its trial is over once
 * production changes), and so does a shadow of the promoted version; another shadow stays.
 */
export function promotedRoles(
  roles: Roles,
  version: number,
): { roles: Roles; ended: { canary?: number; shadow?: number } } {
  const next: Roles = {
    production: version,
    ...(roles.shadow && roles.shadow.version !== version ? { shadow: roles.shadow } : {}),
  };
  return { roles: next, ended: ended(roles, next) };
}

/**
 * The roles after a rollback that writes production back to `to` alone: the canary and the
 * shadow stay, except one of `to` itself, which is production again (a role is always another
 * version than production).
 */
export function rolledBackRoles(roles: Roles, to: number): Roles {
  return {
    production: to,
    ...(roles.canary && roles.canary.version !== to ? { canary: roles.canary } : {}),
    ...(roles.shadow && roles.shadow.version !== to ? { shadow: roles.shadow } : {}),
  };
}

/** A canary's traffic weight from the command line: a number strictly between 0 and 1. */
export function parseWeight(text: string | undefined): number {
  const weight = text === undefined || text.trim() === '' ? Number.NaN : Number(text);
  checkWeight(weight, text ?? null);
  return weight;
}

/**
 * Refuses a weight outside (0, 1): a canary answers some of the traffic, never none or all.
 * `shown` is the weight as the user wrote it, null when they gave none.
 */
export function checkWeight(weight: number, shown?: string | null): void {
  if (!(Number.isFinite(weight) && weight > 0 && weight < 1)) {
    throw new UsageError(
      (shown === null ? 'a canary needs --weight' : `--weight ${JSON.stringify(shown ?? String(weight))} is not a share of traffic`) +
        ': give a number strictly between 0 and 1, e.g. --weight 0.1 for 10% (promote the version to give it all the traffic)',
      { weight: shown ?? weight },
    );
  }
}
