/**
 * Data-parallel training steps: the gradient shards of a step (SupernetTrainerOptions.gradientShards)
 * computed by several processes at once, so one training run uses more than one core (issue #16).
 *
 * The training child (the leader) forks `processes − 1` peers (tasks/dataParallelPeer.ts). Each builds
 * the same replica (prepareTraining: same seed, same data) and loads the checkpoint the leader resumed
 * from. Every step, each process computes its own shards of the step's batch (the batch is a function of
 * the step, so nobody sends images); the leader sends its shards' gradients and activation-range
 * observations to every peer as soon as it has them, the peers send theirs to the leader, the leader
 * forwards to every peer the other peers' shards (three or more processes), and every replica applies
 * all S shards in shard order (SupernetTrainer.applyShards): the same inputs through the same operations,
 * so the replicas stay bit-identical and equal to one process running the S shards in sequence. At every
 * checkpoint the leader compares a checksum of each peer's weights, optimizer slots and ranges with its
 * own and stops with an error if they differ.
 *
 * Peers are processes, not worker_threads: the wasm backend and the dataset loader are per process
 * already (tensor/childProcess.ts), and a peer that outlives its leader exits on its own (the IPC channel
 * closes; dataParallelPeer.ts also watches its parent id, as tensor/childEntry.ts does).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { shardOf, type ShardGradients, type SupernetTrainer } from '../models/supernetTrainer';
import { loaderArgs, terminate } from '../tensor/childProcess';
import type { TrainingRequest } from './supernetTraining';

/** A shard as it crosses the IPC channel (Node's 'advanced' serialization keeps typed arrays). */
export interface WireShard {
  index: number;
  loss: number;
  gradients: Array<[name: string, shape: number[], values: Float32Array]>;
  observedRanges: Array<[layer: string, maxima: number[]]>;
}

export type LeaderToPeer =
  | {
      type: 'init';
      request: TrainingRequest;
      /** The checkpoint directory the leader resumed from (null: fresh weights). */
      checkpoint: string | null;
      /** The shard indices this peer computes every step. */
      shards: number[];
      /** The peer exits after this step. */
      untilStep: number;
      /** Where the processes write their shards' gradient values (ShardFiles). */
      exchangeDir: string;
    }
  /**
   * Shards of `step` the peer does not compute: the leader's own as soon as they are computed (so a peer
   * with two processes waits for one hop, not a round trip through the leader), the other peers' once
   * they arrive. The peer applies the step when it holds all S.
   */
  | { type: 'shards'; step: number; payloads: ShardsInFile[]; verify: boolean };

export type PeerToLeader =
  | { type: 'ready'; step: number }
  | {
      type: 'shards';
      step: number;
      payload: ShardsInFile;
      /** The peer's time on its previous step's update and this step's batch and shards. */
      computeSeconds: number;
      /** CPU time the peer used over the same span (user + system). */
      cpuSeconds: number;
    }
  | { type: 'checksum'; step: number; checksum: string }
  | { type: 'error'; message: string; stack?: string };

/** The peers' replicas no longer match the leader's (a bug, or a nondeterministic kernel). */
export class ReplicaDivergedError extends Error {
  override name = 'ReplicaDivergedError';
}

/** A peer that failed, exited or broke the protocol. */
export class PeerFailedError extends Error {
  override name = 'PeerFailedError';
}

/**
 * Processes a training run uses: `processes` of its section, `auto` = min(gradientShards, CPU cores);
 * absent = auto for the supernet, 1 for a retrained design (stage 4 trains its designs side by side).
 */
export function trainingProcesses(
  settings: { gradientShards?: number; processes?: number | 'auto' },
  retraining: boolean,
  cores = os.availableParallelism(),
): number {
  const shards = settings.gradientShards ?? 1;
  const requested = settings.processes ?? (retraining ? 1 : 'auto');
  return Math.max(1, Math.min(shards, requested === 'auto' ? cores : requested));
}

/** The shards process `process` of `processes` computes: a contiguous run, the leader's first. */
export function shardsOfProcess(process: number, processes: number, shardCount: number): number[] {
  const shards: number[] = [];
  for (let index = 0; index < shardCount; index++)
    if (Math.floor((index * processes) / shardCount) === process) shards.push(index);
  return shards;
}

/** Computes the given shards of the current step's batch; the caller disposes their gradients. */
export function computeShards(
  trainer: SupernetTrainer,
  images: tf.Tensor4D,
  labels: tf.Tensor1D,
  indices: readonly number[],
): Map<number, ShardGradients> {
  const out = new Map<number, ShardGradients>();
  for (const index of indices) {
    const { images: x, labels: y } = shardOf(images, labels, index, trainer.gradientShards);
    try {
      out.set(index, trainer.shardGradients(x, y));
    } finally {
      tf.dispose([x, y]);
    }
  }
  return out;
}

export function toWire(index: number, shard: ShardGradients): WireShard {
  return {
    index,
    loss: shard.loss,
    gradients: [...shard.gradients].map(([name, gradient]) => [
      name,
      gradient.shape,
      // Its own buffer: a view into a larger one would send that whole buffer over the channel.
      new Float32Array(gradient.dataSync()),
    ]),
    observedRanges: [...shard.observedRanges],
  };
}

/** Shards whose gradient values wait in a file: what a message carries instead of the values. */
export interface ShardsInFile {
  file: string;
  shards: Array<
    Omit<WireShard, 'gradients'> & {
      gradients: Array<[name: string, shape: number[], offset: number, length: number]>;
    }
  >;
}

/**
 * The bulk of an exchange goes through files in shared memory (/dev/shm when there is one): a message of
 * a few hundred kB through the IPC pipe (64 kB at a time) reaches a process that is still computing only
 * as it drains the pipe, one context switch per chunk (the leader's wait per step fell from 139 to 40 ms
 * with files: bench/scaling.ts `supernet_leader_ms_wait`, docs/dataParallel.md). A message names its
 * file only after the file is complete. A sender keeps its files of the last two steps: by the time it
 * writes step t + 2, every process has applied step t (it needed their step-t + 1 shards to get there).
 */
export class ShardFiles {
  private readonly written: string[] = [];

  constructor(
    private readonly dir: string,
    private readonly sender: number,
  ) {}

  write(step: number, shards: readonly WireShard[]): ShardsInFile {
    const file = path.join(this.dir, `step${step}-process${this.sender}.f32`);
    let total = 0;
    for (const shard of shards) for (const [, , values] of shard.gradients) total += values.length;
    const floats = new Float32Array(total);
    let offset = 0;
    const described = shards.map((shard) => ({
      ...shard,
      gradients: shard.gradients.map(([name, shape, values]): [string, number[], number, number] => {
        floats.set(values, offset);
        offset += values.length;
        return [name, shape, offset - values.length, values.length];
      }),
    }));
    writeFileSync(file, new Uint8Array(floats.buffer));
    this.written.push(file);
    while (this.written.length > 2) rmSync(this.written.shift()!, { force: true });
    return { file, shards: described };
  }

  static read(payload: ShardsInFile): WireShard[] {
    const bytes = readFileSync(payload.file);
    // An aligned copy: a Buffer from the pool need not start on a 4-byte boundary.
    const floats = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(floats.buffer).set(bytes);
    return payload.shards.map((shard) => ({
      ...shard,
      gradients: shard.gradients.map(([name, shape, offset, length]) => [
        name,
        shape,
        floats.subarray(offset, offset + length),
      ]),
    }));
  }
}

/** A fresh directory for one group's shard files, in shared memory when the machine has it. */
export function makeExchangeDir(): string {
  const root = existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  return mkdtempSync(path.join(root, 'imcnas-data-parallel-'));
}

export function fromWire(wire: WireShard): ShardGradients {
  return {
    loss: wire.loss,
    gradients: new Map(wire.gradients.map(([name, shape, values]) => [name, tf.tensor(values, shape)])),
    observedRanges: new Map(wire.observedRanges),
  };
}

/**
 * Applies the step's S shards in shard order from the ones computed here and the ones received; disposes
 * the received ones' tensors (the caller disposes its own). Returns the step's loss.
 */
export function applyAllShards(
  trainer: SupernetTrainer,
  own: ReadonlyMap<number, ShardGradients>,
  received: readonly WireShard[],
): number {
  const shards = new Array<ShardGradients | undefined>(trainer.gradientShards);
  for (const [index, shard] of own) shards[index] = shard;
  const converted = received.map((wire) => {
    const shard = fromWire(wire);
    shards[wire.index] = shard;
    return shard;
  });
  try {
    const missing = shards.findIndex((shard) => shard === undefined);
    if (missing >= 0) throw new PeerFailedError(`step ${trainer.step}: shard ${missing} was never computed`);
    return trainer.applyShards(shards as ShardGradients[]);
  } finally {
    for (const shard of converted) tf.dispose([...shard.gradients.values()]);
  }
}

/**
 * SHA-256 of what must agree between replicas: step, trainable weights, activation ranges and optimizer
 * slots. The BatchNorm running statistics are left out: only the leader recalibrates them (to validate),
 * and training never reads them.
 */
export function replicaChecksum(trainer: SupernetTrainer): string {
  const hash = createHash('sha256');
  hash.update(`step ${trainer.step} skipped ${trainer.skippedSteps}\n`);
  const add = (name: string, values: Float32Array) => {
    hash.update(name);
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  };
  for (const [name, variable] of [...trainer.supernet.variables].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (name.includes('/bn/running_')) continue;
    add(name, variable.dataSync() as Float32Array);
  }
  for (const [name, slot] of [...trainer.optimizer.snapshot()].sort(([a], [b]) => (a < b ? -1 : 1)))
    add(name, slot.data);
  return hash.digest('hex');
}

const PEER_ENTRY = path.join(__dirname, `dataParallelPeer${path.extname(__filename)}`);

/** One forked peer and its queue of messages. */
class Peer {
  private readonly queue: PeerToLeader[] = [];
  private waiting: { resolve: (m: PeerToLeader) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private readonly stderrTail: string[] = [];

  constructor(
    readonly id: number,
    readonly shards: number[],
    readonly child: ChildProcess,
  ) {
    child.on('message', (message: PeerToLeader) => {
      if (message.type === 'error') {
        this.fail(new PeerFailedError(`data-parallel peer ${id} failed: ${message.message}`));
      } else if (this.waiting) {
        const { resolve } = this.waiting;
        this.waiting = null;
        resolve(message);
      } else {
        this.queue.push(message);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      this.stderrTail.push(chunk.toString());
      if (this.stderrTail.length > 20) this.stderrTail.shift();
    });
    child.on('exit', (code, signal) =>
      this.fail(
        new PeerFailedError(
          `data-parallel peer ${id} exited (${signal ?? `code ${code}`})` +
            (this.stderrTail.length ? `; stderr ends:\n${this.stderrTail.join('').slice(-1500)}` : ''),
        ),
      ),
    );
    child.on('error', (error) => this.fail(error));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    if (this.waiting) {
      const { reject } = this.waiting;
      this.waiting = null;
      reject(this.failure);
    }
  }

  /** The next message, which must be of `type`. */
  async next<T extends PeerToLeader['type']>(type: T): Promise<Extract<PeerToLeader, { type: T }>> {
    const message =
      this.queue.shift() ??
      (await new Promise<PeerToLeader>((resolve, reject) => {
        if (this.failure) reject(this.failure);
        else this.waiting = { resolve, reject };
      }));
    if (message.type !== type)
      throw new PeerFailedError(`data-parallel peer ${this.id} sent ${message.type}, expected ${type}`);
    return message as Extract<PeerToLeader, { type: T }>;
  }

  send(message: LeaderToPeer): void {
    if (this.failure) throw this.failure;
    this.child.send(message);
  }
}

/** Where the leader's step time goes (reported with the chunk's last progress; bench/scaling.ts). */
export interface DataParallelTimings {
  steps: number;
  /** Computing the leader's own shards. */
  computeSeconds: number;
  /** Waiting for the peers' shards (their compute beyond the leader's, and the channel). */
  waitSeconds: number;
  /** Sending the shards on and applying the update. */
  applySeconds: number;
  /** The slowest peer's compute per step, summed (its update, batch and shards). */
  peerComputeSeconds: number;
  /** CPU time of the leader's steps (user + system), and of the busiest peer's compute. */
  leaderCpuSeconds: number;
  peerCpuSeconds: number;
}

/** The leader's side: its peers, and the step that runs all shards across them. */
export class DataParallelGroup {
  readonly timings: DataParallelTimings = {
    steps: 0,
    computeSeconds: 0,
    waitSeconds: 0,
    applySeconds: 0,
    peerComputeSeconds: 0,
    leaderCpuSeconds: 0,
    peerCpuSeconds: 0,
  };

  private constructor(
    private readonly trainer: SupernetTrainer,
    private readonly ownShards: number[],
    private readonly peers: Peer[],
    private readonly exchangeDir: string,
  ) {
    this.files = new ShardFiles(exchangeDir, 0);
  }

  private readonly files: ShardFiles;

  /**
   * Forks the peers and waits until each has built its replica at the leader's step. `checkpoint` is the
   * directory the leader's trainer was restored from (null when it starts from fresh weights).
   */
  static async start(options: {
    trainer: SupernetTrainer;
    request: TrainingRequest;
    checkpoint: string | null;
    processes: number;
    untilStep: number;
  }): Promise<DataParallelGroup> {
    const { trainer, processes } = options;
    const shardCount = trainer.gradientShards;
    if (processes < 2 || processes > shardCount)
      throw new RangeError(`DataParallelGroup: ${processes} processes for ${shardCount} gradient shards`);
    const peers: Peer[] = [];
    const exchangeDir = makeExchangeDir();
    try {
      for (let id = 1; id < processes; id++) {
        const child = fork(PEER_ENTRY, [], {
          execArgv: loaderArgs(PEER_ENTRY),
          stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
          serialization: 'advanced',
        });
        const peer = new Peer(id, shardsOfProcess(id, processes, shardCount), child);
        peers.push(peer);
        peer.send({
          type: 'init',
          request: options.request,
          checkpoint: options.checkpoint,
          shards: peer.shards,
          untilStep: options.untilStep,
          exchangeDir,
        });
      }
      for (const peer of peers) {
        const ready = await peer.next('ready');
        if (ready.step !== trainer.step)
          throw new ReplicaDivergedError(
            `data-parallel peer ${peer.id} resumed at step ${ready.step}, the leader at ${trainer.step}`,
          );
      }
    } catch (error) {
      await Promise.all(peers.map((peer) => terminate(peer.child, 1000)));
      rmSync(exchangeDir, { recursive: true, force: true });
      throw error;
    }
    return new DataParallelGroup(trainer, shardsOfProcess(0, processes, shardCount), peers, exchangeDir);
  }

  /**
   * One step across the group on the step's batch; with `verify`, every peer's replica checksum is
   * compared with the leader's after the update (throws ReplicaDivergedError on a mismatch).
   */
  async step(images: tf.Tensor4D, labels: tf.Tensor1D, verify: boolean): Promise<number> {
    const step = this.trainer.step;
    const cpuAtStart = process.cpuUsage();
    let mark = performance.now();
    const lap = (key: keyof DataParallelTimings) => {
      const now = performance.now();
      this.timings[key] += (now - mark) / 1000;
      mark = now;
    };
    const own = computeShards(this.trainer, images, labels, this.ownShards);
    lap('computeSeconds');
    try {
      const payload = this.files.write(
        step,
        [...own].map(([index, shard]) => toWire(index, shard)),
      );
      for (const peer of this.peers) peer.send({ type: 'shards', step, payloads: [payload], verify });
      const fromPeers = await Promise.all(this.peers.map((peer) => peer.next('shards')));
      lap('waitSeconds');
      this.timings.peerComputeSeconds += Math.max(...fromPeers.map((message) => message.computeSeconds));
      this.timings.peerCpuSeconds += Math.max(...fromPeers.map((message) => message.cpuSeconds));
      for (const [i, message] of fromPeers.entries()) {
        if (message.step !== step)
          throw new ReplicaDivergedError(
            `data-parallel peer ${this.peers[i]!.id} sent step ${message.step}, the leader is at ${step}`,
          );
      }
      if (this.peers.length > 1) {
        for (const [i, peer] of this.peers.entries()) {
          const others = fromPeers.filter((_, j) => j !== i).map((message) => message.payload);
          peer.send({ type: 'shards', step, payloads: others, verify });
        }
      }
      const loss = applyAllShards(
        this.trainer,
        own,
        fromPeers.flatMap((message) => ShardFiles.read(message.payload)),
      );
      lap('applySeconds');
      const cpu = process.cpuUsage(cpuAtStart);
      this.timings.leaderCpuSeconds += (cpu.user + cpu.system) / 1e6;
      if (verify) await this.verify();
      this.timings.steps++;
      return loss;
    } finally {
      for (const shard of own.values()) tf.dispose([...shard.gradients.values()]);
    }
  }

  private async verify(): Promise<void> {
    const mine = replicaChecksum(this.trainer);
    for (const peer of this.peers) {
      const { step, checksum } = await peer.next('checksum');
      if (step !== this.trainer.step || checksum !== mine)
        throw new ReplicaDivergedError(
          `data-parallel peer ${peer.id}'s replica differs from the leader's at step ${this.trainer.step} (checksum ${checksum.slice(0, 12)}… at step ${step}, leader ${mine.slice(0, 12)}…): the run stops rather than train on diverged weights; resume from the last checkpoint, or set processes: 1`,
        );
    }
  }

  /** Stops the peers (they also stop on their own when the leader exits). */
  async close(): Promise<void> {
    await Promise.all(this.peers.map((peer) => terminate(peer.child, 1000)));
    rmSync(this.exchangeDir, { recursive: true, force: true });
  }
}
