/**
 * Backend selection: the request (config, IMCNAS_BACKEND), the auto order (tfjs-node-gpu, tfjs-node, wasm,
 * cpu) with optional native packages simulated through the injectable loader, the measured choice between
 * native and wasm per kind of work, and the JSON report.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  BACKEND_ENV_VAR,
  BackendUnavailableError,
  InvalidBackendChoiceError,
  initTensorEngine,
  resolveBackendChoice,
} from '../../tensor/backend';
import {
  machineSignature,
  nativeIsFaster,
  readChoice,
  readProvision,
  type NativeChoice,
} from '../../tensor/nativePackage';

/** A measurement as `setup --native` writes it: native slower for training, faster for inference. */
function measured(train: [number, number], infer: [number, number]): NativeChoice {
  return {
    workload: 'test',
    ...machineSignature(),
    measuredAt: '2026-01-01T00:00:00.000Z',
    speeds: {
      train: { tensorflow: train[0], wasm: train[1] },
      infer: { tensorflow: infer[0], wasm: infer[1] },
    },
  };
}

/** What tfjs-node does on require: register the native backend under the name 'tensorflow'. */
function fakeNativeLoader(loaded: string[] = []): (name: string) => unknown {
  return (name) => {
    loaded.push(name);
    if (name === '@tensorflow/tfjs-node-gpu') return notInstalled(name);
    tf.registerBackend('tensorflow', () => new MathBackendCPU());
    return {};
  };
}

function notInstalled(name: string): never {
  const error = new Error(`Cannot find module '${name}'`) as Error & { code: string };
  error.code = 'MODULE_NOT_FOUND';
  throw error;
}

afterEach(async () => {
  if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
  await initTensorEngine({ backend: 'wasm', env: {} });
});

describe('resolveBackendChoice', () => {
  test('defaults to auto', () => {
    expect(resolveBackendChoice(undefined, {})).toEqual({ requested: 'auto', requestedBy: 'default' });
  });

  test('takes the config value', () => {
    expect(resolveBackendChoice('cpu', {})).toEqual({ requested: 'cpu', requestedBy: 'option' });
  });

  test('IMCNAS_BACKEND overrides the config, case-insensitively', () => {
    expect(resolveBackendChoice('cpu', { [BACKEND_ENV_VAR]: ' WASM ' })).toEqual({
      requested: 'wasm',
      requestedBy: 'env',
    });
  });

  test('an unknown name is an error naming the choices', () => {
    expect(() => resolveBackendChoice(undefined, { [BACKEND_ENV_VAR]: 'gpu' })).toThrow(
      InvalidBackendChoiceError,
    );
    expect(() => resolveBackendChoice(undefined, { [BACKEND_ENV_VAR]: 'gpu' })).toThrow(
      /auto, tensorflow, wasm, cpu/,
    );
    expect(() => resolveBackendChoice('tpu' as never, {})).toThrow(InvalidBackendChoiceError);
  });
});

describe('initTensorEngine', () => {
  test('auto without native packages picks wasm with SIMD, and says why', async () => {
    const report = await initTensorEngine({
      backend: 'auto',
      env: {},
      loadNativePackage: notInstalled,
      nativeChoice: null,
    });
    expect(report.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(report.simd).toBe(true);
    expect(report.threads).toBe(1);
    expect(report.reason).toMatch(/^auto:/);
    expect(report.skipped).toEqual([
      { candidate: '@tensorflow/tfjs-node-gpu', why: 'not installed' },
      { candidate: '@tensorflow/tfjs-node', why: 'not installed' },
    ]);
    expect(report.customKernels).toEqual(expect.arrayContaining(['Conv2DBackpropFilter']));
    // Small JSON: survives a round trip unchanged.
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  test('auto with the real loader: native for training only if it measured faster on this machine', async () => {
    const report = await initTensorEngine({ env: {} });
    const choice = readProvision() ? readChoice() : null;
    if (!readProvision()) {
      // Not provisioned (npm run setup -- --native): wasm, and the report says neither package is there.
      expect(report.backend).toBe('wasm');
      expect(report.skipped.map((s) => s.why)).toEqual(['not installed', 'not installed']);
    } else {
      expect(report.measured).toEqual(choice?.speeds.train ?? null);
      expect(report.backend).toBe(choice && nativeIsFaster(choice, 'train') ? 'tensorflow' : 'wasm');
    }
    expect(report.work).toBe('train');
  });

  test('a native package that is installed but broken is reported, and auto moves on', async () => {
    const report = await initTensorEngine({
      backend: 'auto',
      env: {},
      loadNativePackage: (name) => {
        if (name === '@tensorflow/tfjs-node-gpu')
          throw new Error('libcudart.so.11.0: cannot open shared object file');
        return notInstalled(name);
      },
      nativeChoice: null,
    });
    expect(report.backend).toBe('wasm');
    expect(report.skipped[0]).toEqual({
      candidate: '@tensorflow/tfjs-node-gpu',
      why: 'installed but failed to load: libcudart.so.11.0: cannot open shared object file',
    });
  });

  test('a native package that registers into another tfjs-core copy is not used', async () => {
    const report = await initTensorEngine({
      backend: 'auto',
      env: {},
      loadNativePackage: () => ({}),
      nativeChoice: null,
    });
    expect(report.backend).toBe('wasm');
    expect(report.skipped[0]!.why).toMatch(/registered no 'tensorflow' backend/);
  });

  test('auto prefers a loadable native package that measured faster, best first', async () => {
    const loaded: string[] = [];
    const report = await initTensorEngine({
      backend: 'auto',
      env: {},
      loadNativePackage: fakeNativeLoader(loaded),
      nativeChoice: measured([1200, 1000], [7000, 4000]),
    });
    expect(loaded).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    expect(report).toMatchObject({
      backend: 'tensorflow',
      nativePackage: '@tensorflow/tfjs-node',
      simd: null,
    });
    expect(tf.getBackend()).toBe('tensorflow');
    expect(report.reason).toMatch(/measured 1200 images per CPU-second against wasm's 1000 for train/);
    expect(report.measured).toEqual({ tensorflow: 1200, wasm: 1000 });
  });

  test('auto chooses per work: wasm to train where native measured slower, native to infer', async () => {
    const choice = measured([940, 990], [7000, 3967]);
    const loaded: string[] = [];
    const train = await initTensorEngine({
      env: {},
      loadNativePackage: fakeNativeLoader(loaded),
      nativeChoice: choice,
    });
    expect(train).toMatchObject({ backend: 'wasm', work: 'train', measured: { tensorflow: 940, wasm: 990 } });
    // Measured slower for this work: libtensorflow is not even loaded.
    expect(loaded).toEqual([]);
    expect(train.skipped).toContainEqual({
      candidate: 'native TensorFlow',
      why:
        "not loaded: measured 940 images per CPU-second against wasm's 990 for train on this machine " +
        '(native is chosen from 1.1× faster)',
    });
    expect(train.reason).toMatch(/^auto: native TensorFlow not loaded: measured/);
    const infer = await initTensorEngine({
      env: {},
      work: 'infer',
      loadNativePackage: fakeNativeLoader(),
      nativeChoice: choice,
    });
    expect(infer).toMatchObject({ backend: 'tensorflow', work: 'infer' });
    expect(tf.getBackend()).toBe('tensorflow');
  });

  test('auto keeps wasm when native is within 10 % (noise) or not measured on this machine', async () => {
    const close = await initTensorEngine({
      env: {},
      loadNativePackage: fakeNativeLoader(),
      nativeChoice: measured([1050, 1000], [1050, 1000]),
    });
    expect(close.backend).toBe('wasm');
    const unmeasured = await initTensorEngine({
      env: {},
      loadNativePackage: fakeNativeLoader(),
      nativeChoice: null,
    });
    expect(unmeasured.backend).toBe('wasm');
    expect(unmeasured.reason).toMatch(
      /not measured against wasm on this machine \(npm run setup -- --native/,
    );
  });

  test('tensorflow requested explicitly runs native whatever the measurement', async () => {
    const report = await initTensorEngine({
      backend: 'tensorflow',
      env: {},
      loadNativePackage: fakeNativeLoader(),
      nativeChoice: measured([1, 1000], [1, 1000]),
    });
    expect(report.backend).toBe('tensorflow');
  });

  test('tensorflow requested but not installed is an error, not a silent fallback', async () => {
    await expect(
      initTensorEngine({ backend: 'tensorflow', env: {}, loadNativePackage: notInstalled }),
    ).rejects.toThrow(BackendUnavailableError);
    await expect(
      initTensorEngine({ env: { [BACKEND_ENV_VAR]: 'tensorflow' }, loadNativePackage: notInstalled }),
    ).rejects.toThrow(/IMCNAS_BACKEND.*@tensorflow\/tfjs-node not installed/);
  });

  test('cpu on request, through the environment variable', async () => {
    const report = await initTensorEngine({ backend: 'wasm', env: { [BACKEND_ENV_VAR]: 'cpu' } });
    expect(report).toMatchObject({ backend: 'cpu', requested: 'cpu', requestedBy: 'env', simd: null });
    expect(tf.getBackend()).toBe('cpu');
  });

  test('is idempotent: the same request returns the same report without re-initializing', async () => {
    const first = await initTensorEngine({ backend: 'wasm', env: {} });
    const second = await initTensorEngine({ backend: 'wasm', env: {} });
    expect(second).toBe(first);
  });
});
