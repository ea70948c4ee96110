/**
 * The kernel half of the plugin: the only file that touches the container. Each kernel gets
 * its own registry of device pages, wired as the core's device-private
 * fault handler, published under HmmRegistryToken, and told its
 * kernel once assembled.
 */
import {
  DevicePrivateHandlerToken,
  KernelReadyToken,
  type DependencyContainer,
  type Feature,
  type Kernel,
} from '@pagewalk/core-walk';
import { HmmRegistry, HmmRegistryToken } from './device-pagemap.js';

export const hmmMigrate: Feature = {
  name: 'hmm-migrate',
  install(container: DependencyContainer): void {
    const registry = new HmmRegistry();
    container.register(DevicePrivateHandlerToken, { useValue: registry.handler });
    container.register(HmmRegistryToken, { useValue: registry });
    container.register(KernelReadyToken, { useValue: { onKernelReady: (kernel: Kernel) => registry.attach(kernel) } });
  },
};
