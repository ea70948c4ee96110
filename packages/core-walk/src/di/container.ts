/**
 * The one place that loads tsyringe (which needs a Reflect polyfill first).
 * Containers are used only to wire a kernel together, never inside a walk.
 */
import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';

export type { DependencyContainer };

/** A fresh scope for one kernel: every feature of that kernel registers here. */
export function createKernelContainer(): DependencyContainer {
  return rootContainer.createChildContainer();
}
