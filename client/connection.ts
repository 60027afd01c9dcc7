/**
 * How the worker and the client reach Temporal: the local dev server by default, any cluster or Temporal
 * Cloud through flags and the environment (address, namespace, TLS/mTLS, API key).
 */
import { readFileSync } from 'node:fs';

export interface ConnectionSettings {
  address: string;
  namespace: string;
  apiKey?: string;
  tls?: boolean;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsCaPath?: string;
  tlsServerName?: string;
}

export const CONNECTION_ENV_HELP = `Connection settings (environment):
  TEMPORAL_ADDRESS          host:port of the frontend (default 127.0.0.1:7233)
  TEMPORAL_NAMESPACE        namespace (default "default")
  TEMPORAL_API_KEY          API key (Temporal Cloud); implies TLS
  TEMPORAL_TLS=1            server-verified TLS
  TEMPORAL_TLS_CERT/_KEY    client certificate and key files (mTLS)
  TEMPORAL_TLS_CA           CA certificate file for a private CA
  TEMPORAL_TLS_SERVER_NAME  server name override for TLS`;

export function connectionSettingsFromEnv(overrides: Partial<ConnectionSettings> = {}): ConnectionSettings {
  const env = process.env;
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return {
    address: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    apiKey: env.TEMPORAL_API_KEY,
    tls: env.TEMPORAL_TLS === '1' || env.TEMPORAL_TLS === 'true',
    tlsCertPath: env.TEMPORAL_TLS_CERT,
    tlsKeyPath: env.TEMPORAL_TLS_KEY,
    tlsCaPath: env.TEMPORAL_TLS_CA,
    tlsServerName: env.TEMPORAL_TLS_SERVER_NAME,
    ...defined,
  };
}

export interface TlsSettings {
  serverNameOverride?: string;
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
}

/** TLS options in the shape both the client's and the worker's connections accept; undefined = plaintext. */
export function tlsOptions(settings: ConnectionSettings): TlsSettings | undefined {
  const mtls = Boolean(settings.tlsCertPath && settings.tlsKeyPath);
  if (!settings.tls && !mtls && !settings.tlsCaPath && !settings.apiKey) return undefined;
  return {
    serverNameOverride: settings.tlsServerName,
    serverRootCACertificate: settings.tlsCaPath ? readFileSync(settings.tlsCaPath) : undefined,
    clientCertPair: mtls
      ? { crt: readFileSync(settings.tlsCertPath!), key: readFileSync(settings.tlsKeyPath!) }
      : undefined,
  };
}

export class UnreachableServerError extends Error {
  override name = 'UnreachableServerError';
  constructor(address: string, cause: unknown) {
    super(
      `cannot reach Temporal at ${address} (${String((cause as Error)?.message ?? cause).split('\n')[0]}). ` +
        'Start a local server with `npm run server`, or point TEMPORAL_ADDRESS (and the TLS/API-key settings) at your cluster.',
    );
  }
}
