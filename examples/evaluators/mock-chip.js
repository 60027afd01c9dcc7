#!/usr/bin/env node
/**
 * A minimal external evaluator speaking imcnas-evaluator/1 (hardware/evaluator/PROTOCOL.md), in plain
 * Node with no dependencies: the template for wrapping NeuroSim, aihwkit or a lab bench, and the stand-in
 * the adapter's tests run against.
 *
 * It does everything a real evaluator must do with a request — read the weights file, check its SHA-256
 * and format, read the hardware and noise settings, answer one accuracy per (drift time, sample), report
 * progress and measured metrics — but it does not run the network: its "chip" reports accuracies drawn
 * around --base-accuracy (default 0.85), lower with more programming noise and later drift times, seeded
 * by the request's sample seeds so the same request gives the same answer. Replace `measure()` with a call
 * into your simulator or instrument.
 *
 * Flags for testing failure handling: --fail=crash | hang | garbage | error | no-hello | wrong-protocol |
 * bad-result | exit-after-hello.
 *
 *   node examples/evaluators/mock-chip.js [--base-accuracy=0.85] [--fail=<mode>]
 */
'use strict';
/* global Buffer, setInterval */
const crypto = require('node:crypto');
const fs = require('node:fs');
const readline = require('node:readline');

const PROTOCOL = 'imcnas-evaluator/1';
const args = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const [key, value] = arg.replace(/^--/, '').split('=');
    return [key, value === undefined ? 'true' : value];
  }),
);
const fail = args.fail || '';
const baseAccuracy = Number(args['base-accuracy'] || 0.85);

function send(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** mulberry32: a tiny seeded generator, so answers are reproducible from the sample seeds. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(next) {
  const u = Math.max(next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
}

/** Reads and checks the weights reference; returns the network's size. */
function loadWeights(weights) {
  const bytes = fs.readFileSync(weights.path);
  const digest = crypto.createHash('sha256').update(bytes).digest('hex');
  if (digest !== weights.sha256)
    throw new Error(`weights file ${weights.path}: SHA-256 ${digest} ≠ ${weights.sha256}`);
  const network = JSON.parse(bytes.toString('utf8'));
  if (network.format !== weights.format)
    throw new Error(`weights file format ${network.format} ≠ ${weights.format}`);
  let values = 0;
  for (const layer of network.layers) values += Buffer.from(layer.kernel, 'base64').length / 4;
  return { layers: network.layers.length, weights: values };
}

/** The stand-in measurement: one accuracy for one chip sample at one time. */
function measure(request, sampleSeed, timeS) {
  const next = generator(sampleSeed ^ Math.floor(timeS));
  const noiseScale = request.noise.programmingScale;
  const loss = 0.02 * noiseScale + 0.004 * Math.log10(1 + timeS) + (8 - request.hardware.adcBits) * 0.003;
  const value = baseAccuracy - loss + 0.004 * normal(next);
  return Math.min(1, Math.max(0, value));
}

function evaluate(request) {
  const started = Date.now();
  const size = loadWeights(request.weights);
  const accuracies = [];
  request.driftSeconds.forEach((timeS, i) => {
    accuracies.push(request.sampleSeeds.map((seed) => measure(request, seed, timeS)));
    send({
      type: 'progress',
      id: request.id,
      done: i + 1,
      total: request.driftSeconds.length,
      message: `t = ${timeS} s`,
    });
  });
  if (fail === 'bad-result') accuracies[0][0] = 1.5;
  return {
    type: 'result',
    id: request.id,
    accuracies,
    noiseFreeAccuracy: baseAccuracy,
    metrics: { layers: size.layers, weights: size.weights, evaluationSeconds: (Date.now() - started) / 1000 },
  };
}

if (fail === 'no-hello') {
  setInterval(() => {}, 1000);
} else {
  send({
    type: 'hello',
    protocol: fail === 'wrong-protocol' ? 'something-else/9' : PROTOCOL,
    name: 'mock-chip',
    version: '1',
  });
  if (fail === 'exit-after-hello') process.exit(3);
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    const message = JSON.parse(line);
    if (message.type === 'shutdown') process.exit(0);
    if (message.type !== 'evaluate') return;
    if (fail === 'crash') {
      process.stderr.write('mock-chip: simulated crash (segmentation fault in the driver)\n');
      process.exit(139);
    }
    if (fail === 'hang') return; // never answers
    if (fail === 'garbage') {
      process.stdout.write('Loading bitstream... done\n');
      return;
    }
    if (fail === 'error') {
      send({
        type: 'error',
        id: message.id,
        message: 'chip not calibrated: run the calibration routine first',
      });
      return;
    }
    try {
      send(evaluate(message));
    } catch (error) {
      send({ type: 'error', id: message.id, message: error.message });
    }
  });
  lines.on('close', () => process.exit(0));
}
