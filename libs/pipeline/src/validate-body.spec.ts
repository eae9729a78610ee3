import {
  IsDefined,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
  validateSync,
} from 'class-validator';
import { GatewayError } from '@switchyard/core';
import { compilePlan, passesPlan, validateBody } from './validate-body';

class Sample {
  [extra: string]: unknown;
  @IsString({ message: 'name must be a string' }) @IsNotEmpty({ message: 'name is required' }) name!: string;
  @IsOptional() @IsInt({ message: 'n must be an integer' }) @Min(1) @Max(4) n?: number;
  @IsDefined({ message: 'flag is required' }) flag!: unknown;
  @ValidateIf((o: Sample) => o.name === 'strict') @IsInt({ message: 'level must be an integer' }) level?: number;
}

class WithEach {
  @IsString({ each: true }) tags!: string[];
}

class Inner {
  @IsString() x!: string;
}
class WithNested {
  @ValidateNested() inner!: Inner;
}

const bySync = (cls: new () => object, body: object) => validateSync(Object.assign(new cls(), body)).length === 0;

describe('validateBody', () => {
  it('compiles a plan for IsOptional, IsDefined, ValidateIf and the value checks', () => {
    const plan = compilePlan(Sample);
    expect(plan?.map((p) => p.name).sort()).toEqual(['flag', 'level', 'n', 'name']);
  });

  it('leaves what the plan does not model to validateSync (each, nested)', () => {
    expect(compilePlan(WithEach)).toBeNull();
    expect(compilePlan(WithNested)).toBeNull();
    expect(() => validateBody(WithEach, { tags: ['a', 1] })).toThrow(GatewayError);
    expect(validateBody(WithEach, { tags: ['a', 'b'] }).tags).toEqual(['a', 'b']);
  });

  it('agrees with validateSync on valid and invalid bodies', () => {
    const plan = compilePlan(Sample)!;
    const bodies: object[] = [];
    for (const name of [undefined, null, '', 'a', 'strict', 3])
      for (const n of [undefined, null, 0, 1, 4, 5, 2.5, '2'])
        for (const flag of [undefined, null, false, 'x'])
          for (const level of [undefined, 1, 'x']) bodies.push({ name, n, flag, level });
    let valid = 0;
    for (const b of bodies) {
      const clean = Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined));
      const expected = bySync(Sample, clean);
      expect({ body: clean, valid: passesPlan(plan, Object.assign(new Sample(), clean), 'Sample') }).toEqual({
        body: clean,
        valid: expected,
      });
      if (expected) valid++;
    }
    // the corpus holds both kinds, so the agreement above is not vacuous
    expect(valid).toBeGreaterThan(20);
    expect(bodies.length - valid).toBeGreaterThan(100);
  });

  it("reports class-validator's error for a body the plan refuses", () => {
    try {
      validateBody(Sample, { name: 'a', flag: 1, n: 9 });
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(GatewayError);
      expect((e as GatewayError).param).toBe('n');
      expect((e as GatewayError).message).toBe('n must not be greater than 4');
    }
    expect(() => validateBody(Sample, { name: 'a' })).toThrow('flag is required');
    expect(() => validateBody(Sample, [])).toThrow('The request body must be a JSON object.');
  });

  it('keeps unknown fields and returns an instance of the class', () => {
    const v = validateBody(Sample, { name: 'a', flag: 0, extra: { deep: 1 } });
    expect(v).toBeInstanceOf(Sample);
    expect(v.extra).toEqual({ deep: 1 });
  });
});
