#!/usr/bin/env python3
"""Run DNN+NeuroSim (V1.3 / V1.4 inference) on synthetic traces and write fixtures for bench/fidelity.ts.

Nothing of NeuroSim is vendored here: the simulator is built outside the repository (default /work/neurosim,
see README in bench/fixtures/neurosim). This script only
  1. writes deterministic synthetic layer traces in the CSV layout NeuroSim's PyTorch wrapper writes
     (Inference_pytorch/utee/hook.py: weight file = (K*K*Cin) x Cout real weights in (-1, 1) quantized to the
     weight bits; input file = (K*K*Cin) x (vectors * inputBits) of 0/1 bits, MSB first, as dec2bin writes),
  2. copies the simulator tree per configuration, patches named assignments in Param.cpp, rebuilds,
  3. runs ./main with the command line the wrapper would write, parses the summary and writes
     bench/fixtures/neurosim/<config>.json.

Python standard library only (seeded `random`), so the traces are reproducible bit for bit.

Usage: python3 neurosim.py [--root /work/neurosim] [--only name,name] [--list]
"""
import argparse
import difflib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
FIXTURES = os.path.join(REPO, 'bench', 'fixtures', 'neurosim')

COMMITS = {
    '1.3': '388f421204cd97b0b980f79ce92d4b8c6e4c3d44',
    '1.4': 'ac828e6723bf077c9b1423c5c72ff6e4981e90f4',
}

# Layer rows: IFM H, IFM W, Cin, K, K, Cout, followed-by-pooling, stride (NeuroSim NetWork_*.csv layout).
NETWORKS = {
    'VGG8': [
        [32, 32, 3, 3, 3, 128, 0, 1],
        [32, 32, 128, 3, 3, 128, 1, 1],
        [16, 16, 128, 3, 3, 256, 0, 1],
        [16, 16, 256, 3, 3, 256, 1, 1],
        [8, 8, 256, 3, 3, 512, 0, 1],
        [8, 8, 512, 3, 3, 512, 1, 1],
        [1, 1, 8192, 1, 1, 1024, 0, 1],
        [1, 1, 1024, 1, 1, 10, 0, 1],
    ],
    # ResNet-18-like for CIFAR-10 (32x32): 17 conv layers + FC, residual 1x1 downsampling convs omitted;
    # deeper than VGG-8 but small enough for NeuroSim's per-vector activity loop on a 2-core machine.
    'ResNet18C': [
        [32, 32, 3, 3, 3, 64, 0, 1],
        [32, 32, 64, 3, 3, 64, 0, 1],
        [32, 32, 64, 3, 3, 64, 0, 1],
        [32, 32, 64, 3, 3, 64, 0, 1],
        [32, 32, 64, 3, 3, 64, 0, 1],
        [32, 32, 64, 3, 3, 128, 0, 2],
        [16, 16, 128, 3, 3, 128, 0, 1],
        [16, 16, 128, 3, 3, 128, 0, 1],
        [16, 16, 128, 3, 3, 128, 0, 1],
        [16, 16, 128, 3, 3, 256, 0, 2],
        [8, 8, 256, 3, 3, 256, 0, 1],
        [8, 8, 256, 3, 3, 256, 0, 1],
        [8, 8, 256, 3, 3, 256, 0, 1],
        [8, 8, 256, 3, 3, 512, 0, 2],
        [4, 4, 512, 3, 3, 512, 0, 1],
        [4, 4, 512, 3, 3, 512, 0, 1],
        [4, 4, 512, 3, 3, 512, 1, 1],
        [1, 1, 512, 1, 1, 10, 0, 1],
    ],
}


def num_vectors(layer):
    """NeuroSim's own count (Chip.cpp ChipCalculatePerformance): (H-K+1)/s * (W-K+1)/s, no padding."""
    h, w, _c, kh, kw, _o, _p, s = layer
    return int((h - kh + 1) / s * (w - kw + 1) / s)


def quantize(x, bits):
    """WAGE quantizer (Inference_pytorch/utee/wage_quantizer.py Q): step 2^(1-bits), clipped to (-1, 1)."""
    delta = 2.0 ** (1 - bits)
    q = round(x / delta) * delta
    return max(-1 + delta, min(1 - delta, q))


def dec2bin(x, n):
    """Two's-complement bits MSB first as Inference_pytorch/utee/hook.py dec2bin writes them."""
    delta = 1.0 / (2 ** (n - 1))
    xi = x / delta
    base = 2 ** (n - 1)
    sign = 1 if xi < 0 else 0
    rest = xi + base * sign
    bits = [sign]
    for _ in range(n - 1):
        base /= 2
        b = 1 if rest >= base else 0
        rest -= base * b
        bits.append(b)
    return bits


def write_traces(root, net, wbits, abits, seed=2024):
    """Synthetic but realistic traces: weights ~ N(0, 0.2) clipped and quantized (trained VGG-8 weights in the
    wrapper's (-1, 1) range have a few-tenths spread); activations: first layer a normalized image
    (N(0, 0.5), signed), later layers post-ReLU: half exactly zero, the rest |N(0, 0.25)| quantized to the input
    bits. That gives ~0.1-0.15 input bit density, close to the V1.4 default inputtoggle 0.18 for VGG-8."""
    out = os.path.join(root, 'traces', f'{net}_w{wbits}a{abits}_s{seed}')
    done = os.path.join(out, 'done')
    if os.path.exists(done):
        return out
    os.makedirs(out, exist_ok=True)
    rng = random.Random(seed)
    stats = []
    for i, layer in enumerate(NETWORKS[net]):
        h, w, c, kh, kw, o, _p, s = layer
        rows = kh * kw * c
        with open(os.path.join(out, f'weight{i}.csv'), 'w') as f:
            for _r in range(rows):
                f.write(','.join(f'{quantize(max(-1.0, min(1.0, rng.gauss(0, 0.2))), wbits):10.5f}' for _ in range(o)))
                f.write('\n')
        nv = num_vectors(layer)
        # one activation per (row, vector); bits laid out vector-major as hook.py's filled_matrix_b[:, i::length]
        ones = 0
        with open(os.path.join(out, f'input{i}.csv'), 'w') as f:
            for _r in range(rows):
                line = []
                for _v in range(nv):
                    if i == 0:
                        x = max(-1.0, min(1.0 - 2.0 ** (1 - abits), rng.gauss(0, 0.5)))
                    else:
                        x = 0.0 if rng.random() < 0.5 else min(1.0 - 2.0 ** (1 - abits), abs(rng.gauss(0, 0.25)))
                    x = round(x * 2 ** (abits - 1)) / 2 ** (abits - 1)
                    bits = dec2bin(x, abits)
                    ones += sum(bits)
                    line.extend('1' if b else '0' for b in bits)
                f.write(','.join(line))
                f.write('\n')
        stats.append(ones / (rows * nv * abits))
    with open(os.path.join(out, 'density.json'), 'w') as f:
        json.dump({'input_bit_density_per_layer': stats}, f)
    open(done, 'w').close()
    return out


# ---- configurations -------------------------------------------------------------------------------------
# Every entry: name, version, network, params patched in Param.cpp (name -> C literal), array rows (V1.4 takes
# them on the command line with the parallel-read row count), sweep membership.
BASE14 = {
    'memcelltype': '2', 'cellBit': '2', 'levelOutput': '32', 'SARADC': 'false', 'pipeline': 'false',
    'technode': '22', 'numColSubArray': '128',
}


def cfg(name, version='1.4', net='VGG8', rows=128, **params):
    base = dict(BASE14) if version == '1.4' else {}
    base.update({k: str(v) for k, v in params.items()})
    if version == '1.4' and 'numColSubArray' not in params:
        base['numColSubArray'] = str(rows)
    return {'name': name, 'version': version, 'network': net, 'rows': rows, 'params': base}


CONFIGS = [
    # The public anchor: the V1.3 manual's Fig. 24 example is V1.3 stock Param.cpp with the resistances the
    # manual's text names for it (Ron 100 kOhm, Roff 10 MOhm); the stock 6 kOhm run is kept beside it.
    cfg('v13_rram22_c2_a128_flash5_lbl_fig24', version='1.3', resistanceOn='100e3', resistanceOff='10e6'),
    cfg('v13_rram22_c2_a128_flash5_lbl', version='1.3'),
    cfg('v13_rram22_c2_a128_sar5_lbl', version='1.3', SARADC='true'),
    # V1.4 baseline (same design point as the anchor) and its pipelined twin.
    cfg('rram22_c2_a128_flash5_lbl'),
    cfg('rram22_c2_a128_flash5_pipe', pipeline='true'),
    # ADC bits (flash / multi-level SA) and SAR.
    cfg('rram22_c2_a128_flash4_lbl', levelOutput='16'),
    cfg('rram22_c2_a128_flash6_lbl', levelOutput='64'),
    cfg('rram22_c2_a128_sar4_lbl', levelOutput='16', SARADC='true'),
    cfg('rram22_c2_a128_sar5_lbl', SARADC='true'),
    cfg('rram22_c2_a128_sar6_lbl', levelOutput='64', SARADC='true'),
    # Bits per cell.
    cfg('rram22_c1_a128_flash5_lbl', cellBit='1'),
    cfg('rram22_c4_a128_flash5_lbl', cellBit='4'),
    # Array size.
    cfg('rram22_c2_a64_flash5_lbl', rows=64),
    cfg('rram22_c2_a256_flash5_lbl', rows=256),
    # Node: RRAM 45/22 (V1.4 refuses RRAM at <= 14 nm), SRAM and FeFET 45/22/7.
    cfg('rram45_c2_a128_flash5_lbl', technode='45'),
    cfg('sram45_c1_a128_flash5_lbl', memcelltype='1', cellBit='1', technode='45'),
    cfg('sram22_c1_a128_flash5_lbl', memcelltype='1', cellBit='1'),
    cfg('sram7_c1_a128_flash5_lbl', memcelltype='1', cellBit='1', technode='7'),
    cfg('fefet45_c2_a128_flash5_lbl', memcelltype='3', technode='45'),
    cfg('fefet22_c2_a128_flash5_lbl', memcelltype='3'),
    cfg('fefet7_c2_a128_flash5_lbl', memcelltype='3', technode='7'),
    # NeuroSim has no PCM cell type: a 1T1R analog cell (memcelltype 2) with PCM-like resistances
    # (Ron 40 kOhm, on/off 12.5: the hardware/devices.ts pcm preset) stands in for it.
    cfg('pcm22_c2_a128_flash5_lbl', resistanceOn='40e3', resistanceOff='40e3*12.5'),
    # V1.4 manual Table VII style points: 1 bit/cell, 4-bit ADC.
    cfg('rram22_c1_a128_flash4_lbl', cellBit='1', levelOutput='16'),
    cfg('sram22_c1_a128_flash4_lbl', memcelltype='1', cellBit='1', levelOutput='16'),
    # A deeper network.
    cfg('resnet18c_rram22_c2_a128_flash5_lbl', net='ResNet18C'),
    # Small arrays with a big ADC (a demo design: RRAM 45 nm, 64x64, 1 bit/cell, 8-bit SAR) and its 128-row
    # twin: the edge-periphery layout at its extreme.
    cfg('rram45_c1_a64_sar8_lbl', rows=64, technode='45', cellBit='1', levelOutput='256', SARADC='true'),
    cfg('rram45_c1_a128_sar8_lbl', technode='45', cellBit='1', levelOutput='256', SARADC='true'),
    # SRAM with a SAR ADC: the access transistors' column current in the SAR's c/R' term.
    cfg('sram22_c1_a128_sar5_lbl', memcelltype='1', cellBit='1', SARADC='true'),
]

SWEEPS = {
    'adc_bits_flash': ['rram22_c2_a128_flash4_lbl', 'rram22_c2_a128_flash5_lbl', 'rram22_c2_a128_flash6_lbl'],
    'adc_bits_sar': ['rram22_c2_a128_sar4_lbl', 'rram22_c2_a128_sar5_lbl', 'rram22_c2_a128_sar6_lbl'],
    'adc_type': ['rram22_c2_a128_flash5_lbl', 'rram22_c2_a128_sar5_lbl'],
    'bits_per_cell': ['rram22_c1_a128_flash5_lbl', 'rram22_c2_a128_flash5_lbl', 'rram22_c4_a128_flash5_lbl'],
    'array_size': ['rram22_c2_a64_flash5_lbl', 'rram22_c2_a128_flash5_lbl', 'rram22_c2_a256_flash5_lbl'],
    'node_rram': ['rram45_c2_a128_flash5_lbl', 'rram22_c2_a128_flash5_lbl'],
    'node_sram': ['sram45_c1_a128_flash5_lbl', 'sram22_c1_a128_flash5_lbl', 'sram7_c1_a128_flash5_lbl'],
    'node_fefet': ['fefet45_c2_a128_flash5_lbl', 'fefet22_c2_a128_flash5_lbl', 'fefet7_c2_a128_flash5_lbl'],
    'device_22nm': ['sram22_c1_a128_flash5_lbl', 'rram22_c1_a128_flash5_lbl'],
    'dataflow': ['rram22_c2_a128_flash5_lbl', 'rram22_c2_a128_flash5_pipe'],
    'array_size_sar8_45nm': ['rram45_c1_a64_sar8_lbl', 'rram45_c1_a128_sar8_lbl'],
    'adc_type_sram': ['sram22_c1_a128_flash5_lbl', 'sram22_c1_a128_sar5_lbl'],
}


def patch_param(src_text, params):
    """Replace the first `name = value;` assignment of each parameter (the user-defined section comes first)."""
    text = src_text
    for name, value in params.items():
        pattern = re.compile(r'^(\s*)' + re.escape(name) + r'\s*=\s*[^;]*;', re.M)
        if not pattern.search(text):
            raise ValueError(f'Param.cpp has no assignment to {name}')
        text = pattern.sub(lambda m: f'{m.group(1)}{name} = {value};', text, count=1)
    return text


NUM = r'([-+0-9.eE]+|nan|inf)'
SUMMARY_FIELDS = {
    'chip_area_um2': r'ChipArea : ' + NUM + r'um\^2',
    'array_area_um2': r'Chip total CIM array : ' + NUM,
    'ic_area_um2': r'Total IC Area on chip \(Global and Tile/PE local\): ' + NUM,
    'adc_area_um2': r'Total ADC \(or S/As and precharger for SRAM\) Area on chip : ' + NUM,
    'accum_area_um2': r'Total Accumulation Circuits .*? on chip : ' + NUM,
    'other_area_um2': r'Other Peripheries \(e\.g\. decoders, mux, switchmatrix, buffers, pooling and activation units\) : ' + NUM,
    'clock_period_ns': r'Chip clock period is: ' + NUM,
    'latency_ns': r'Chip (?:layer-by-layer readLatency|pipeline-system-clock-cycle) \(per image\) is: ' + NUM,
    'dynamic_energy_pJ': r'Chip (?:total|pipeline-system) readDynamicEnergy(?: \(per image\))? is: ' + NUM,
    'leakage_energy_pJ': r'Chip (?:total|pipeline-system) leakage Energy(?: \(per image\))? is: ' + NUM,
    'leakage_power_uW': r'Chip (?:total|pipeline-system) leakage Power(?: \(per image\))? is: ' + NUM,
    'buffer_latency_ns': r'Chip (?:pipeline-system )?buffer readLatency(?: \(per image\))? is: ' + NUM,
    'buffer_energy_pJ': r'Chip (?:pipeline-system )?buffer readDynamicEnergy(?: \(per image\))? is: ' + NUM,
    'ic_latency_ns': r'Chip (?:pipeline-system )?ic readLatency(?: \(per image\))? is: ' + NUM,
    'ic_energy_pJ': r'Chip (?:pipeline-system )?ic readDynamicEnergy(?: \(per image\))? is: ' + NUM,
    'adc_latency_ns': r'ADC \(or S/As and precharger for SRAM\) readLatency is : ' + NUM,
    'accum_latency_ns': r'Accumulation Circuits .*? readLatency is : ' + NUM,
    'other_latency_ns': r'Other Peripheries .*? readLatency is : ' + NUM,
    'adc_energy_pJ': r'ADC \(or S/As and precharger for SRAM\) readDynamicEnergy is : ' + NUM,
    'accum_energy_pJ': r'Accumulation Circuits .*? readDynamicEnergy is : ' + NUM,
    'other_energy_pJ': r'Other Peripheries .*? readDynamicEnergy is : ' + NUM,
    'tops_per_w': r'Energy Efficiency TOPS/W \([^)]*\): ' + NUM,
    'tops': r'Throughput TOPS \([^)]*\): ' + NUM,
    'fps': r'Throughput FPS \([^)]*\): ' + NUM,
    'tops_per_mm2': r'Compute efficiency TOPS/mm\^2 \([^)]*\): ' + NUM,
}


def parse(stdout):
    if '------------------------------ Summary' not in stdout:
        raise ValueError('no summary in NeuroSim output')
    summary = stdout.split('------------------------------ Summary', 1)[1]
    out = {}
    for key, rx in SUMMARY_FIELDS.items():
        m = re.search(rx, summary)
        out[key] = float(m.group(1)) if m else None
    tiles = re.search(r'# of tile used for each layer -+\n(.*?)\n\n', stdout, re.S)
    if tiles:
        out['tiles_per_layer'] = [float(x.split(': ')[1]) for x in tiles.group(1).strip().split('\n')]
    fp = re.search(r'Desired Conventional Mapped Tile Storage Size: (\S+)', stdout)
    if fp:
        out['tile_storage'] = fp.group(1)
    pe = re.search(r'Desired Conventional PE Storage Size: (\S+)', stdout)
    if pe:
        out['pe_storage'] = pe.group(1)
    util = re.search(r'Memory Utilization of Whole Chip: ' + NUM, stdout)
    if util:
        out['memory_utilization_pct'] = float(util.group(1))
    layers = re.findall(r"layer(\d+)'s readLatency is: " + NUM + r"ns\nlayer\d+'s readDynamicEnergy is: " + NUM, stdout)
    out['layer_latency_ns'] = [float(l[1]) for l in layers]
    out['layer_dynamic_energy_pJ'] = [float(l[2]) for l in layers]
    return out


def run_config(root, c, jobs_log):
    name = c['name']
    src = os.path.join(root, f"v{c['version']}", 'NeuroSIM')
    work = os.path.join(root, 'work', name)
    if os.path.exists(work):
        shutil.rmtree(work)
    shutil.copytree(src, work, symlinks=True)
    with open(os.path.join(src, 'Param.cpp')) as f:
        stock = f.read()
    patched = patch_param(stock, c['params'])
    diff = ''.join(difflib.unified_diff(stock.splitlines(True), patched.splitlines(True), 'Param.cpp (stock)', 'Param.cpp'))
    with open(os.path.join(work, 'Param.cpp'), 'w') as f:
        f.write(patched)
    # Param.o must rebuild; everything including Param.h is compiled, so touch forces just that object.
    subprocess.run(['make', '-s'], cwd=work, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    net = c['network']
    wbits, abits = 8, 8
    traces = write_traces(root, net, wbits, abits)
    netcsv = os.path.join(work, f'NetWork_{net}.csv')
    with open(netcsv, 'w') as f:
        for layer in NETWORKS[net]:
            f.write(','.join(str(v) for v in layer) + '\n')
    args = ['./main', f'NetWork_{net}.csv', str(wbits), str(abits)]
    if c['version'] == '1.4':
        args += [str(c['rows']), str(c['rows'])]
    for i in range(len(NETWORKS[net])):
        args += [os.path.join(traces, f'weight{i}.csv'), os.path.join(traces, f'input{i}.csv')]
    started = time.time()
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(['nice', '-n', '10'] + args, cwd=work, capture_output=True, text=True, env=env)
    wall = time.time() - started
    with open(os.path.join(work, 'stdout.txt'), 'w') as f:
        f.write(proc.stdout)
    if proc.returncode != 0:
        raise RuntimeError(f'{name}: main exited {proc.returncode}: {proc.stdout[-500:]} {proc.stderr[-500:]}')
    parsed = parse(proc.stdout)
    with open(os.path.join(traces, 'density.json')) as f:
        density = json.load(f)
    fixture = {
        'name': name,
        'neurosim': {'version': c['version'], 'repository': f"https://github.com/neurosim/DNN_NeuroSim_V{c['version']}",
                     'commit': COMMITS[c['version']]},
        'network': net,
        'layers': NETWORKS[net],
        'weight_bits': wbits,
        'input_bits': abits,
        'array_rows': c['rows'],
        'params': c['params'],
        'command': ' '.join(args[:6 if c['version'] == '1.4' else 4] + [f'<{len(NETWORKS[net])} x weight{{i}}.csv input{{i}}.csv>']),
        'trace_generator': 'bench/peers/neurosim/neurosim.py write_traces (seed 2024)',
        'input_bit_density_per_layer': density['input_bit_density_per_layer'],
        'param_diff': diff,
        'results': parsed,
        'wall_s': round(wall, 1),
    }
    os.makedirs(FIXTURES, exist_ok=True)
    tmp = os.path.join(FIXTURES, f'.{name}.json.tmp')
    with open(tmp, 'w') as f:
        json.dump(fixture, f, indent=2)
        f.write('\n')
    os.replace(tmp, os.path.join(FIXTURES, f'{name}.json'))
    print(f'{name}: area {parsed["chip_area_um2"] / 1e6:.2f} mm2, latency {parsed["latency_ns"] / 1e6:.4f} ms, '
          f'energy {parsed["dynamic_energy_pJ"] / 1e6:.2f} uJ + {parsed["leakage_energy_pJ"] / 1e6:.3f} uJ, '
          f'{parsed["tops_per_w"]:.2f} TOPS/W ({wall:.0f} s)', file=jobs_log, flush=True)
    return fixture


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--root', default='/work/neurosim')
    ap.add_argument('--only', default='')
    ap.add_argument('--skip-existing', action='store_true')
    ap.add_argument('--list', action='store_true')
    a = ap.parse_args()
    if a.list:
        for c in CONFIGS:
            print(c['name'])
        return
    order = [n for n in a.only.split(',') if n]
    only = set(order)
    os.makedirs(FIXTURES, exist_ok=True)
    tmp = os.path.join(FIXTURES, '.sweeps.json.tmp')
    with open(tmp, 'w') as f:
        json.dump(SWEEPS, f, indent=2)
        f.write('\n')
    os.replace(tmp, os.path.join(FIXTURES, 'sweeps.json'))
    failed = []
    # --only runs its configurations in the order given (most wanted first)
    queue = [c for n in order for c in CONFIGS if c['name'] == n] if order else CONFIGS
    for c in queue:
        if a.skip_existing and os.path.exists(os.path.join(FIXTURES, f"{c['name']}.json")):
            continue
        try:
            run_config(a.root, c, sys.stdout)
        except Exception as e:  # keep going: one refused configuration must not stop the sweep
            failed.append(c['name'])
            print(f"{c['name']}: FAILED {e}", flush=True)
    if failed:
        print('failed: ' + ', '.join(failed))


if __name__ == '__main__':
    main()
