/**
 * The effective hardware library: devices and peripheral-architecture presets by name. The built-in one is
 * DEFAULT_LIBRARY; hardware/schema.ts builds a custom one from config overrides.
 */
import type { ArchitectureParams } from './architectures';
import { BUILTIN_ARCHITECTURES, DEFAULT_ARCHITECTURE } from './architectures';
import type { DeviceParams } from './devices';
import { BUILTIN_DEVICES } from './devices';

export interface HardwareLibrary {
  readonly devices: ReadonlyMap<string, DeviceParams>;
  readonly architectures: ReadonlyMap<string, ArchitectureParams>;
}

export function createLibrary(
  devices: Iterable<DeviceParams>,
  architectures: Iterable<ArchitectureParams>,
): HardwareLibrary {
  return {
    devices: new Map([...devices].map((device) => [device.name, device])),
    architectures: new Map([...architectures].map((arch) => [arch.name, arch])),
  };
}

export const DEFAULT_LIBRARY: HardwareLibrary = createLibrary(BUILTIN_DEVICES, BUILTIN_ARCHITECTURES);

export function getDevice(library: HardwareLibrary, name: string): DeviceParams {
  const device = library.devices.get(name);
  if (!device) {
    throw new Error(
      `hardware.device: unknown device "${name}"; known devices: ${[...library.devices.keys()].join(', ')}`,
    );
  }
  return device;
}

export function getArchitecture(
  library: HardwareLibrary,
  name: string = DEFAULT_ARCHITECTURE,
): ArchitectureParams {
  const arch = library.architectures.get(name);
  if (!arch) {
    throw new Error(
      `hardware.architecture: unknown architecture "${name}"; known: ${[...library.architectures.keys()].join(', ')}`,
    );
  }
  return arch;
}
