// Validation of /v1 bodies: class-validator on the fields the gateway reads, nothing stripped (unknown
// OpenAI parameters pass through to the adapter). The first failure is a 400 with `param` naming it.
//
// The decorators stay the one definition of what is valid, and class-validator the one source of error
// messages. But validateSync builds a ValidationError, three filtered arrays and the grouped metadata of
// every decorated property on every call (about a fifth of what a /v1 request allocates), although
// nearly every body is valid. So each DTO class gets a plan, compiled once from class-validator's own
// metadata: the same constraint instances called in the same order on the same values. A body the plan
// passes is valid; one it refuses goes through validateSync, which reports the error (and has the last
// word: should they ever disagree, validateSync's verdict is the one used). Classes using what the plan
// does not model (`each`, nested or async validation, groups) always take validateSync.
import { ValidationArguments, getMetadataStorage, validateSync } from 'class-validator';
import { GatewayError, validationFailure } from '@switchyard/core';

// class-validator's ValidationTypes values (its metadata's `type`)
const CUSTOM = 'customValidation';
const CONDITIONAL = 'conditionalValidation';
const IS_DEFINED = 'isDefined';

interface Check {
  validate: (value: unknown, args: ValidationArguments) => unknown;
  constraints: unknown[];
  validateIf?: (object: object, value: unknown) => boolean;
}

interface PropertyPlan {
  name: string;
  /** all must hold for the property to be validated at all (IsOptional, ValidateIf) */
  conditions: Array<(object: object, value: unknown) => boolean>;
  /** IsDefined's checks, then the others: the order class-validator runs them in */
  defined: Check[];
  checks: Check[];
}

type Plan = PropertyPlan[] | null;

const plans = new WeakMap<object, Plan>();

/** The class's plan, or null when only validateSync can judge it. Exported for its tests. */
export function compilePlan(cls: new () => object): Plan {
  const storage = getMetadataStorage();
  // what validateSync(instance, {}) reads: no groups, `always` off
  const metas = storage.getTargetValidationMetadatas(cls, '', false, false, undefined);
  const byName = new Map<string, PropertyPlan>();
  for (const m of metas) {
    if (m.each || m.groups?.length) return null;
    let p = byName.get(m.propertyName);
    if (!p) byName.set(m.propertyName, (p = { name: m.propertyName, conditions: [], defined: [], checks: [] }));
    if (m.type === CONDITIONAL) {
      p.conditions.push(m.constraints[0] as (object: object, value: unknown) => boolean);
      continue;
    }
    if (m.type !== CUSTOM && m.type !== IS_DEFINED) return null;
    const found = storage.getTargetValidatorConstraints(m.constraintCls);
    if (!found.length) return null;
    for (const c of found) {
      if (c.async) return null;
      (m.type === IS_DEFINED ? p.defined : p.checks).push({
        validate: (value, args) => c.instance.validate(value, args),
        constraints: m.constraints ?? [],
        validateIf: (m as { validateIf?: Check['validateIf'] }).validateIf,
      });
    }
  }
  return [...byName.values()];
}

function planOf(cls: new () => object): Plan {
  let plan = plans.get(cls);
  if (plan === undefined) {
    plan = compilePlan(cls);
    plans.set(cls, plan);
  }
  return plan;
}

/** True when the plan finds nothing wrong with `object`. */
export function passesPlan(plan: PropertyPlan[], object: object, targetName: string): boolean {
  const args = { targetName, property: '', object, value: undefined as unknown, constraints: [] as unknown[] };
  const values = object as Record<string, unknown>;
  for (const p of plan) {
    const value = values[p.name];
    let validated = true;
    for (const cond of p.conditions) if (!cond(object, value)) validated = false;
    if (!validated) continue;
    args.property = p.name;
    args.value = value;
    for (const c of p.defined.length ? [...p.defined, ...p.checks] : p.checks) {
      if (c.validateIf && !c.validateIf(object, value)) continue;
      args.constraints = c.constraints;
      if (!c.validate(value, args)) return false;
    }
  }
  return true;
}

export function validateBody<T extends object>(cls: new () => T, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayError('bad_request', 'The request body must be a JSON object.');
  }
  const instance = Object.assign(new cls(), body);
  const plan = planOf(cls);
  if (plan && passesPlan(plan, instance, cls.name)) return instance;
  // every constraint of a field runs (no stopAtFirstError), so the type check can be the one reported
  const errors = validateSync(instance, {
    forbidUnknownValues: false,
    validationError: { target: false, value: false },
  });
  if (errors.length) throw validationFailure(errors);
  return instance;
}
