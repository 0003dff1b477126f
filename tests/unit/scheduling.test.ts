import { describe, expect, it } from 'vitest';
import { FrameBuffer, type DropCause } from '../../src/pipeline/frame-buffer.ts';
import { Semaphore } from '../../src/pipeline/semaphore.ts';
import { checkRfDetrContract, checkRfDetrOutputs } from '../../src/inference/rfdetr-contract.ts';

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

describe('FrameBuffer strategies', () => {
  function make(filling: 'WAIT' | 'DROP_OLDEST' | 'DROP_LATEST' | 'ADAPTIVE_DROP_OLDEST' | 'ADAPTIVE_DROP_LATEST', consumption: 'LAZY' | 'EAGER', capacity = 2, live = true) {
    const drops: [number, DropCause][] = [];
    const disposed: number[] = [];
    const buffer = new FrameBuffer<number>({ capacity, filling, consumption, live, dispose: (n) => disposed.push(n), onDrop: (n, cause) => drops.push([n, cause]) });
    return { buffer, drops, disposed };
  }

  it('DROP_OLDEST + LAZY keeps the newest `capacity` frames, oldest first', async () => {
    const { buffer, drops } = make('DROP_OLDEST', 'LAZY');
    for (const n of [1, 2, 3, 4, 5]) await buffer.put(n);
    expect(drops).toEqual([[1, 'buffer_full_drop_oldest'], [2, 'buffer_full_drop_oldest'], [3, 'buffer_full_drop_oldest']]);
    expect([buffer.take(), buffer.take(), buffer.take()]).toEqual([4, 5, undefined]);
  });

  it('DROP_LATEST keeps the first `capacity` frames and drops arrivals', async () => {
    const { buffer, drops } = make('DROP_LATEST', 'LAZY');
    for (const n of [1, 2, 3, 4]) await buffer.put(n);
    expect(drops.map(([n]) => n)).toEqual([3, 4]);
    expect([buffer.take(), buffer.take()]).toEqual([1, 2]);
  });

  it('EAGER takes the newest and drops (and disposes) the rest', async () => {
    const { buffer, drops, disposed } = make('DROP_OLDEST', 'EAGER', 4);
    for (const n of [1, 2, 3]) await buffer.put(n);
    expect(buffer.take()).toBe(3);
    expect(drops).toEqual([[1, 'eager_consumption'], [2, 'eager_consumption']]);
    expect(disposed).toEqual([1, 2]);
  });

  it('WAIT makes the producer wait for room, dropping nothing', async () => {
    const { buffer, drops } = make('WAIT', 'LAZY', 1);
    await buffer.put(1);
    let second = false;
    const pending = buffer.put(2).then(() => (second = true));
    await Promise.resolve();
    expect(second).toBe(false);
    expect(buffer.take()).toBe(1);
    await pending;
    expect(second).toBe(true);
    expect(buffer.take()).toBe(2);
    expect(drops).toEqual([]);
  });

  it('ADAPTIVE drops arrivals on a live source while the consumer is slower than the stream', async () => {
    const { buffer, drops } = make('ADAPTIVE_DROP_OLDEST', 'LAZY', 64);
    // 30 fps arrivals; the consumer takes every third frame (10 fps) once it has enough samples.
    let t = 0;
    for (let i = 1; i <= 90; i++) {
      t += 1000 / 30;
      await buffer.put(i, t);
      if (i % 3 === 0) buffer.take(t);
    }
    const adaptive = drops.filter(([, cause]) => cause === 'adaptive').length;
    expect(adaptive).toBeGreaterThan(20);
    expect(drops.every(([, cause]) => cause === 'adaptive')).toBe(true);
  });

  it('ADAPTIVE never drops for files', async () => {
    const { buffer, drops } = make('ADAPTIVE_DROP_OLDEST', 'LAZY', 64, false);
    let t = 0;
    for (let i = 1; i <= 60; i++) {
      t += 10;
      await buffer.put(i, t);
      if (i % 3 === 0) buffer.take(t);
    }
    expect(drops).toEqual([]);
  });

  it('close disposes what is buffered and releases waiting producers', async () => {
    const { buffer, disposed } = make('WAIT', 'LAZY', 1);
    await buffer.put(1);
    const waiting = buffer.put(2);
    buffer.close();
    expect(await waiting).toBe(false);
    expect(disposed.sort()).toEqual([1, 2]);
  });
});
