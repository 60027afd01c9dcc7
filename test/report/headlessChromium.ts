/**
 * Opens a page in Debian's Chromium, headless and offline, over the DevTools protocol on a pipe
 * (--remote-debugging-pipe: commands on fd 3, replies on fd 4, NUL-separated JSON), so the test needs no
 * WebSocket client. Records every network request the page makes and evaluates an expression in it.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { findChromium } from '../../scripts/chromium';

/** Flags that keep the browser from reaching anything: no background services, a proxy to a dead port. */
export const OFFLINE_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--no-first-run',
  '--no-default-browser-check',
  '--metrics-recording-only',
  '--proxy-server=127.0.0.1:9',
  '--proxy-bypass-list=<-loopback>',
];

export interface PageVisit<T> {
  /** URL of every request the page issued (the page's own file:// URL included). */
  requests: string[];
  /** Requests that failed to load (blocked, unreachable, …). */
  failedRequests: string[];
  value: T;
}

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

export async function visitPage<T>(
  url: string,
  expression: string,
  userDataDir: string,
): Promise<PageVisit<T>> {
  const executable = findChromium();
  if (!executable)
    throw new Error("Chromium is not installed: run `npm run setup` (it installs Debian's chromium package)");
  const child = spawn(
    executable,
    [...OFFLINE_FLAGS, `--user-data-dir=${userDataDir}`, '--remote-debugging-pipe'],
    {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  const pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  const listeners: Array<(m: Message) => void> = [];
  let buffer = '';
  fromBrowser.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let end;
    while ((end = buffer.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffer.slice(0, end)) as Message;
      buffer = buffer.slice(end + 1);
      if (message.id !== undefined && pending.has(message.id)) {
        const waiter = pending.get(message.id)!;
        pending.delete(message.id);
        if (message.error) waiter.reject(new Error(message.error.message));
        else waiter.resolve(message);
      } else for (const listener of listeners) listener(message);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const waiter of pending.values())
      waiter.reject(new Error(`chromium exited: ${stderr.slice(-2000)}`));
  });
  let nextId = 1;
  const send = (method: string, params: object = {}, sessionId?: string) =>
    new Promise<Message>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });

  const requests: string[] = [];
  const failedRequests: string[] = [];
  try {
    const { result: target } = await send('Target.createTarget', { url: 'about:blank' });
    const { result: attached } = await send('Target.attachToTarget', {
      targetId: target!.targetId,
      flatten: true,
    });
    const sessionId = attached!.sessionId as string;
    const urlsById = new Map<string, string>();
    let loaded: () => void = () => undefined;
    const loadEvent = new Promise<void>((resolve) => (loaded = resolve));
    listeners.push((message) => {
      if (message.sessionId !== sessionId) return;
      if (message.method === 'Network.requestWillBeSent') {
        const request = message.params!.request as { url: string };
        urlsById.set(message.params!.requestId as string, request.url);
        requests.push(request.url);
      } else if (message.method === 'Network.loadingFailed') {
        failedRequests.push(urlsById.get(message.params!.requestId as string) ?? '?');
      } else if (message.method === 'Page.loadEventFired') loaded();
    });
    await send('Network.enable', {}, sessionId);
    await send('Page.enable', {}, sessionId);
    await send('Page.navigate', { url }, sessionId);
    await loadEvent;
    const { result } = await send('Runtime.evaluate', { expression, returnByValue: true }, sessionId);
    const evaluated = result!.result as { value: T };
    await send('Browser.close').catch(() => undefined);
    return { requests, failedRequests, value: evaluated.value };
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}
