/**
 * The native cache's small files: a measurement only counts on the machine it was taken on, a missing
 * provision reads as "not installed", and the shared tfjs packages link to this checkout's.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  SHARED_TFJS_PACKAGES,
  choiceFile,
  linkSharedPackages,
  loadCachedNativePackage,
  machineSignature,
  nativeIsFaster,
  readChoice,
  type NativeChoice,
} from '../../tensor/nativePackage';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imcnas-native-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function choice(cpuModel: string): NativeChoice {
  return {
    workload: 'test',
    cpuModel,
    cpuCount: machineSignature().cpuCount,
    measuredAt: '2026-01-01T00:00:00.000Z',
    speeds: { train: { tensorflow: 900, wasm: 1000 }, infer: { tensorflow: 7000, wasm: 4000 } },
  };
}

test('a measurement from this machine is read; one from another CPU is ignored', () => {
  expect(readChoice(dir)).toBeNull();
  fs.writeFileSync(choiceFile(dir), JSON.stringify(choice(machineSignature().cpuModel)));
  expect(readChoice(dir)?.speeds.infer).toEqual({ tensorflow: 7000, wasm: 4000 });
  fs.writeFileSync(choiceFile(dir), JSON.stringify(choice('another CPU')));
  expect(readChoice(dir)).toBeNull();
});

test('native is chosen per work, from 1.1× faster', () => {
  const measured = choice(machineSignature().cpuModel);
  expect(nativeIsFaster(measured, 'train')).toBe(false);
  expect(nativeIsFaster(measured, 'infer')).toBe(true);
  measured.speeds.train = { tensorflow: 1090, wasm: 1000 };
  expect(nativeIsFaster(measured, 'train')).toBe(false);
  measured.speeds.train = { tensorflow: 1100, wasm: 1000 };
  expect(nativeIsFaster(measured, 'train')).toBe(true);
});

test('an unprovisioned cache reads as "not installed", naming the setup command', () => {
  let thrown: unknown;
  try {
    loadCachedNativePackage(dir);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toMatchObject({ code: 'MODULE_NOT_FOUND' });
  expect((thrown as Error).message).toMatch(/'@tensorflow\/tfjs-node'.*npm run setup -- --native/);
});

test("shared tfjs packages link to this checkout's, replacing npm's own copies", () => {
  const copy = path.join(dir, 'node_modules', '@tensorflow', 'tfjs-core');
  fs.mkdirSync(copy, { recursive: true });
  fs.writeFileSync(path.join(copy, 'package.json'), '{"name":"@tensorflow/tfjs-core","version":"0.0.0"}');
  linkSharedPackages(dir);
  linkSharedPackages(dir); // idempotent
  for (const name of SHARED_TFJS_PACKAGES) {
    const link = path.join(dir, 'node_modules', name);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.realpathSync(link)).toBe(
      fs.realpathSync(path.dirname(require.resolve(`${name}/package.json`))),
    );
  }
});
