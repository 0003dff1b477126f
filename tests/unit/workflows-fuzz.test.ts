/**
 * Bounded fuzz: thousands of mutated specifications thrown at the compiler (and the runtime-input check). Only
 * typed workflow errors may come back: no crash, no hang. Seeded, so a failure reproduces.
 */
import { describe, expect, it } from 'vitest';
import { compileWorkflow } from '../../src/workflows/compiler.ts';
import { WorkflowExecutor } from '../../src/workflows/executor.ts';
import { WorkflowError } from '../../src/workflows/workflow-errors.ts';
import { BLOCKS } from '../../src/workflows/blocks/registry.ts';
import { cropSpec, fullSpec, seedSpec } from './workflows-specs.ts';

const SPECS = 4000;
const TIME_BUDGET_MS = 60_000;

/** mulberry32: a small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const JUNK: unknown[] = [
  null,
  undefined,
  0,
  -1,
  1.5,
  1e308,
  Number.NaN,
  '',
  'x',
  '$',
  '$inputs',
  '$inputs.image',
  '$inputs.nope',
  '$inputs.confidence',
  '$steps.detect.predictions',
  '$steps.detect.*',
  '$steps.tracker.tracked_detections',
  '$steps.counter.count_in',
  '$steps.nope.x',
  '$steps.counter.nope',
  '$steps.filter.predictions',
  '$steps.zone_time.timed_detections',
  '$steps.boxes.image',
  '$steps.line.image',
  '$steps.labels.image',
  '$steps.crop.crops',
  '$steps.crop.predictions',
  '$steps.detect2.predictions',
  '$steps.boxes2.image',
  '$steps..',
  true,
  false,
  [],
  [1, 2],
  [[0, 0], [1, 1]],
  [[0, 0], [0, 0]],
  [[0, 0], [10, 0], [10, 10]],
  {},
  { url: '' },
  { type: 'StatementGroup', statements: [] },
  [{ type: 'SequenceLength' }],
  [{ type: 'Nope' }],
  'CENTER',
  'ObjectDetectionModel',
  'roboflow_core/byte_tracker@v3',
  ...BLOCKS.map((b) => b.type),
];

function mutate(value: unknown, random: () => number, depth = 0): unknown {
  const pick = <T,>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  if (Array.isArray(value)) {
    const copy = [...value];
    const r = random();
    if (copy.length > 0 && r < 0.15) copy.splice(Math.floor(random() * copy.length), 1);
    else if (copy.length > 0 && r < 0.25) copy.push(structuredClone(pick(copy)));
    else if (copy.length > 1 && r < 0.3) copy.reverse();
    else if (copy.length > 0) {
      const i = Math.floor(random() * copy.length);
      copy[i] = depth < 6 && random() < 0.7 ? mutate(copy[i], random, depth + 1) : pick(JUNK);
    } else copy.push(pick(JUNK));
    return copy;
  }
  if (typeof value === 'object' && value !== null) {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const r = random();
    if (keys.length > 0 && r < 0.15) delete copy[pick(keys)];
    else if (r < 0.25) copy[pick(['extra', 'name', 'type', 'selector', 'image', 'confidence', 'zone', 'operations'])] = pick(JUNK);
    else if (keys.length > 0) {
      const k = pick(keys);
      copy[k] = depth < 6 && random() < 0.7 ? mutate(copy[k], random, depth + 1) : pick(JUNK);
    }
    return copy;
  }
  return random() < 0.5 ? pick(JUNK) : value;
}

describe('workflow compiler fuzz', () => {
  it(`${SPECS} mutated specifications: only typed errors, each compile fast`, () => {
    const random = rng(20261126);
    const started = Date.now();
    const outcomes = new Map<string, number>();
    let slowest = 0;
    let count = 0;
    for (; count < SPECS && Date.now() - started < TIME_BUDGET_MS; count++) {
      const seed = random();
      let spec: unknown = seed < 0.55 ? fullSpec() : seed < 0.8 ? cropSpec() : seedSpec();
      const rounds = 1 + Math.floor(random() * 4);
      for (let r = 0; r < rounds; r++) spec = mutate(spec, random);
      // Directed rewiring: point a step property at another selector (reaches kind mismatches and cycles).
      const steps = (spec as { steps?: unknown } | null)?.steps;
      if (random() < 0.3 && Array.isArray(steps) && steps.length > 0) {
        const step = steps[Math.floor(random() * steps.length)];
        if (typeof step === 'object' && step !== null) {
          const keys = Object.keys(step).filter((k) => k !== 'type' && k !== 'name');
          const selectors = JUNK.filter((j): j is string => typeof j === 'string' && j.startsWith('$steps.'));
          if (keys.length > 0) (step as Record<string, unknown>)[keys[Math.floor(random() * keys.length)]!] = selectors[Math.floor(random() * selectors.length)];
        }
      }
      const t0 = performance.now();
      let outcome = 'ok';
      try {
        const compiled = compileWorkflow(random() < 0.05 ? JSON.stringify(spec) : spec);
        new WorkflowExecutor(compiled, { runtime: { detect: () => Promise.reject(new Error('x')), newId: () => '' } });
      } catch (error) {
        if (!(error instanceof WorkflowError)) throw new Error(`spec #${count} threw a ${(error as Error)?.name}: ${(error as Error)?.message}\n${JSON.stringify(spec)}`);
        expect(error.message.length).toBeGreaterThan(0);
        outcome = error.name;
      }
      slowest = Math.max(slowest, performance.now() - t0);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    console.log(`fuzz: ${count} specs in ${Date.now() - started} ms, slowest ${slowest.toFixed(1)} ms`, Object.fromEntries(outcomes));
    expect(count).toBeGreaterThanOrEqual(1000);
    expect(slowest).toBeLessThan(1000);
    // The mutations reach every error class the compiler raises and some specs still compile.
    for (const name of ['ok', 'WorkflowSyntaxError', 'DuplicatedNameError', 'InvalidReferenceTargetError', 'ReferenceTypeError', 'ExecutionGraphStructureError']) {
      expect(outcomes.get(name) ?? 0, name).toBeGreaterThan(0);
    }
  }, 120_000);
});
