import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { EXIT, main } from '../../client/cli';
import { validateConfig } from '../../config/load';

describe('imcnas CLI', () => {
  let dir: string;
  let errors: string[];
  let output: string[];
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'imcnas-cli-'));
    errors = [];
    output = [];
    jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
    jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void output.push(args.join(' ')));
    process.exitCode = undefined;
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('validate exits 0 for the shipped example', async () => {
    expect(await main(['validate', path.join(__dirname, '..', '..', 'examples', 'quick.yaml')])).toBe(
      EXIT.ok,
    );
    expect(output.join('\n')).toMatch(/valid \(search "quick"/);
  });

  it('validate exits 2 and lists every problem without a stack trace', async () => {
    const file = path.join(dir, 'bad.yaml');
    await fs.writeFile(file, 'name: x\nseed: -1\nsupernet:\n  epoch: 2\n');
    expect(await main(['validate', file])).toBe(EXIT.invalid);
    const text = errors.join('\n');
    expect(text).toContain('seed: must be ≥ 0, got -1');
    expect(text).toContain('supernet.epoch: unknown field (did you mean "epochs"?)');
    expect(text).not.toMatch(/\n\s+at /);
  });

  it('export refuses an unknown tool and a design without a retrained model, naming the fix (exit 2)', async () => {
    const run = path.join(dir, 'run');
    await fs.mkdir(path.join(run, 'final', '0212000020101011', 'model'), { recursive: true });
    expect(await main(['export', run, '0212000020101011', '--to', 'spice'])).toBe(EXIT.invalid);
    expect(errors.join('\n')).toContain('--to: unknown tool "spice"; use --to neurosim');
    errors.length = 0;
    expect(await main(['export', run, '2101302030003301', '--to', 'neurosim'])).toBe(EXIT.invalid);
    expect(errors.join('\n')).toMatch(
      /designKey: 2101302030003301 has no retrained model .*export one of the retrained designs: 0212000020101011/,
    );
    expect(errors.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('export --to aihwkit refuses a bad design key and bad drift times, naming the fix (exit 2)', async () => {
    const run = path.join(dir, 'run');
    await fs.mkdir(path.join(run, 'final', '0212000020101011', 'model'), { recursive: true });
    expect(await main(['export', run, '2101302030003301', '--to', 'aihwkit'])).toBe(EXIT.invalid);
    expect(errors.join('\n')).toMatch(
      /designKey: 2101302030003301 has no retrained model .*export one of the retrained designs: 0212000020101011/,
    );
    errors.length = 0;
    expect(await main(['export', run, '0212000020101011', '--to', 'aihwkit', '--drift', '1,soon'])).toBe(
      EXIT.invalid,
    );
    expect(errors.join('\n')).toContain(
      '--drift: comma-separated seconds ≥ 0 (e.g. 1,3600,86400), got "1,soon"',
    );
    expect(errors.join('\n')).not.toMatch(/\n\s+at /);
  });

  const onnxFixture = (name: string) => path.join(__dirname, '..', 'fixtures', 'onnx', name);

  it('cost prints an ONNX network per layer and in total on the default chip, or as JSON', async () => {
    expect(await main(['cost', onnxFixture('mobilenet-ish.onnx')])).toBe(EXIT.ok);
    const text = output.join('\n');
    expect(text).toMatch(
      /5 weight layers on rram 22 nm, 128×128 arrays, 2 b\/cell, 6-bit sar ADC per 8 columns/,
    );
    expect(text).toMatch(/conv3 +depthwise +32→32 +3×3\/1 → 7×7/);
    expect(text).toMatch(/total: 369,120 MACs\/image/);
    output.length = 0;
    const chip = path.join(dir, 'chip.yaml');
    await fs.writeFile(chip, 'device: sram\nbitsPerCell: 1\ntechNode: 7\n');
    expect(await main(['cost', onnxFixture('resnet-ish.onnx'), '--chip', chip, '--json'])).toBe(EXIT.ok);
    const report = JSON.parse(output.join('\n')) as {
      chip: { device: string };
      layers: unknown[];
      totals: { macs: number };
    };
    expect(report.chip.device).toBe('sram');
    expect(report.layers).toHaveLength(4);
    expect(report.totals.macs).toBeGreaterThan(0);
  });

  it('cost exits 2 naming the node of an unsupported op, or the chip field to fix', async () => {
    expect(await main(['cost', onnxFixture('unsupported-op.onnx')])).toBe(EXIT.invalid);
    expect(errors.join('\n')).toMatch(/^node "lstm1" \(LSTM\) is not supported/);
    errors.length = 0;
    const chip = path.join(dir, 'chip.yaml');
    await fs.writeFile(chip, 'device: sram\n');
    expect(await main(['cost', onnxFixture('resnet-ish.onnx'), '--chip', chip])).toBe(EXIT.invalid);
    expect(errors.join('\n')).toMatch(
      /--chip .*chip\.yaml: hardware\.bitsPerCell: sram stores 1 bit per cell, got 2/,
    );
  });

  it('import prints an ONNX network as a baseline.networks entry that a configuration accepts', async () => {
    expect(await main(['import', onnxFixture('resnet-baseline.onnx'), '--name', 'mine'])).toBe(EXIT.ok);
    const entry = parseYaml(output.join('\n')) as unknown[];
    const config = validateConfig({ name: 'x', baseline: { networks: entry } });
    expect(config.baseline?.networks).toEqual([
      expect.objectContaining({ name: 'mine', residual: true, stem: { channels: 16, kernel: 3, stride: 2 } }),
    ]);
    expect(await main(['import', onnxFixture('mobilenet-ish.onnx'), '--name', 'mine'])).toBe(EXIT.invalid);
    expect(errors.join('\n')).toMatch(/node "conv3" \(Conv\): a depthwise convolution/);
  });

  it('start refuses an invalid config before contacting any server', async () => {
    const file = path.join(dir, 'bad.yaml');
    await fs.writeFile(file, 'name: x\ntemporal:\n  address: 127.0.0.1:1\nsupernet:\n  batchSize: 0\n');
    expect(await main(['start', '--config', file])).toBe(EXIT.invalid);
    expect(errors.join('\n')).toContain('supernet.batchSize: must be ≥ 1, got 0');
  });

  it('start refuses a search id that could write outside the artifact root, naming the rule', async () => {
    const file = path.join(dir, 'ok.yaml');
    await fs.writeFile(file, 'name: x\ntemporal:\n  address: 127.0.0.1:1\n');
    for (const id of ['../../x', '/etc/passwd', '.hidden', 'a/b']) {
      errors.length = 0;
      expect(await main(['start', '--config', file, '--id', id])).toBe(EXIT.invalid);
      expect(errors.join('\n')).toMatch(
        /--id .* is not allowed: use 1–100 letters, digits, dots, dashes or underscores/,
      );
    }
  });

  it('says clearly when Temporal is unreachable', async () => {
    const file = path.join(dir, 'ok.yaml');
    await fs.writeFile(file, 'name: x\ntemporal:\n  address: 127.0.0.1:1\n');
    const saved = process.env.TEMPORAL_ADDRESS;
    delete process.env.TEMPORAL_ADDRESS;
    try {
      expect(await main(['start', '--config', file])).toBe(EXIT.unreachable);
    } finally {
      if (saved !== undefined) process.env.TEMPORAL_ADDRESS = saved;
    }
    expect(errors.join('\n')).toMatch(/cannot reach Temporal at 127\.0\.0\.1:1.*npm run server/);
  });

  it('prints help for every command', async () => {
    const written: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => (written.push(String(chunk)), true));
    expect(await main(['--help'])).toBe(EXIT.ok);
    const help = written.join('');
    for (const command of ['validate', 'start', 'status', 'server'])
      expect(help).toMatch(new RegExp(`\\n  ${command}\\b`));
  });
});
