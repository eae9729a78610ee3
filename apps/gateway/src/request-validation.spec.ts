// The /v1 request DTOs are checked by a plan compiled from their decorators (libs/pipeline
// validate-body.ts); this proves that plan and class-validator's validateSync agree on each of them,
// over bodies that vary every field through values of every JSON type.
import { validateSync } from 'class-validator';
import { ChatCompletionDto, CountTokensDto, MessagesDto } from '@switchyard/completions';
import { EmbeddingsDto } from '@switchyard/embeddings';
import { compilePlan, passesPlan } from '@switchyard/pipeline';

const VALUES: unknown[] = [
  undefined,
  null,
  true,
  0,
  -1,
  1,
  0.5,
  3,
  100000,
  '',
  'a',
  'float',
  'auto',
  [],
  ['a'],
  [1, 2],
  [{}],
  [{ type: 'text', text: 'x' }],
  [{ role: 'user', content: 'hi' }],
  [{ type: 'function', function: { name: 'f' } }],
  {},
  { type: 'json_object' },
  { type: 'function', function: { name: 'f' } },
];

const CASES: Array<{ cls: new () => object; base: Record<string, unknown> }> = [
  { cls: ChatCompletionDto, base: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } },
  { cls: MessagesDto, base: { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] } },
  { cls: CountTokensDto, base: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } },
  { cls: EmbeddingsDto, base: { model: 'm', input: 'hello' } },
];

describe.each(CASES)('$cls.name: the compiled plan agrees with validateSync', ({ cls, base }) => {
  const plan = compilePlan(cls);

  it('has a plan (its decorators are all ones the plan models)', () => {
    expect(plan).not.toBeNull();
  });

  it('on every field set to every kind of value, and on pairs of fields', () => {
    const fields = plan!.map((p) => p.name);
    const bodies: Record<string, unknown>[] = [base];
    for (const f of fields) for (const v of VALUES) bodies.push({ ...base, [f]: v });
    for (const f of fields)
      for (const g of fields)
        if (f < g)
          for (const v of VALUES.slice(0, 12))
            bodies.push({ ...base, [f]: v, [g]: VALUES[VALUES.length - 1 - VALUES.indexOf(v)] });
    let valid = 0;
    for (const raw of bodies) {
      const body = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
      const expected = validateSync(Object.assign(new cls(), body), { forbidUnknownValues: false }).length === 0;
      const got = passesPlan(plan!, Object.assign(new cls(), body), cls.name);
      if (got !== expected) throw new Error(`plan says ${got}, validateSync ${expected}: ${JSON.stringify(body)}`);
      if (expected) valid++;
    }
    expect(valid).toBeGreaterThan(fields.length);
    expect(bodies.length - valid).toBeGreaterThan(fields.length * 5);
  });
});
