import { describe, expect, it } from 'vitest';
import { ReorderBuffer } from '../../src/pipeline/reorder-buffer.ts';
import { Semaphore } from '../../src/pipeline/semaphore.ts';
import { checkRfDetrContract, checkRfDetrOutputs } from '../../src/inference/rfdetr-contract.ts';

describe('ReorderBuffer', () => {
  it('releases results in sequence order whatever order they finish in', () => {
    const r = new ReorderBuffer<string>();
    expect(r.push(1, 'b')).toEqual([]);
    expect(r.push(2, 'c')).toEqual([]);
    expect(r.pending).toBe(2);
    expect(r.push(0, 'a')).toEqual(['a', 'b', 'c']);
    expect(r.push(3, 'd')).toEqual(['d']);
    expect(r.pending).toBe(0);
  });
  it('rejects a sequence number pushed twice', () => {
    const r = new ReorderBuffer<number>();
    r.push(0, 0);
    expect(() => r.push(0, 0)).toThrow(RangeError);
  });
  it('drains what is left for cleanup', () => {
    const r = new ReorderBuffer<string>();
    r.push(2, 'x');
    expect(r.drain()).toEqual(['x']);
    expect(r.pending).toBe(0);
  });
});

describe('Semaphore', () => {
  it('serves waiters in FIFO order and rejects them on close', async () => {
    const s = new Semaphore(1);
    await s.acquire();
    const order: number[] = [];
    const a = s.acquire().then(() => order.push(1));
    const b = s.acquire().then(() => order.push(2));
    s.release();
    await a;
    s.release();
    await b;
    expect(order).toEqual([1, 2]);
    const c = s.acquire();
    s.close(new Error('closed'));
    await expect(c).rejects.toThrow('closed');
    await expect(s.acquire()).rejects.toThrow('closed');
  });
});

describe('RF-DETR contract', () => {
  const meta = (shape: (number | string)[]) => [{ name: 'input', isTensor: true, shape }];
  it('accepts the native and the hub conventions', () => {
    expect(checkRfDetrContract({ inputNames: ['input'], outputNames: ['dets', 'labels'], inputMetadata: meta([1, 3, 384, 384]) })).toMatchObject({
      boxesName: 'dets',
      logitsName: 'labels',
      inputSize: 384,
      convention: 'native',
    });
    expect(checkRfDetrContract({ inputNames: ['pixel_values'], outputNames: ['logits', 'pred_boxes'], inputMetadata: [] }, 560)).toMatchObject({
      boxesName: 'pred_boxes',
      inputSize: 560,
      convention: 'hub',
    });
  });
  it('names what was expected when outputs, inputs or shapes are wrong', () => {
    expect(() => checkRfDetrContract({ inputNames: ['input'], outputNames: ['boxes', 'scores'] })).toThrow(/model outputs \[boxes, scores\] do not match RF-DETR's contract: expected/);
    expect(() => checkRfDetrContract({ inputNames: ['a', 'b'], outputNames: ['dets', 'labels'] })).toThrow(/model has 2 inputs/);
    expect(() => checkRfDetrContract({ inputNames: ['input'], outputNames: ['dets', 'labels'], inputMetadata: meta([1, 1, 64, 64]) })).toThrow(/shape \[1,1,64,64\]/);
    expect(() => checkRfDetrContract({ inputNames: ['input'], outputNames: ['dets', 'labels'], inputMetadata: meta([1, 3, 'h', 'w']) })).toThrow(/pass `inputSize`/);
    expect(() => checkRfDetrOutputs([1, 300, 4], [1, 200, 91], { boxesName: 'dets', logitsName: 'labels' } as never)).toThrow(/\[1,Q,4\] and \[1,Q,C\]/);
    expect(checkRfDetrOutputs([1, 300, 4], [1, 300, 91], { boxesName: 'dets', logitsName: 'labels' } as never)).toEqual({ queries: 300, classes: 91 });
  });
});
