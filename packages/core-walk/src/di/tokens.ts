/**
 * Typed DI tokens: a symbol that remembers the type it resolves to, named
 * with Symbol.for so a token keeps its identity even if two copies of a
 * package are loaded (docs/ARCHITECTURE.md, features).
 */
import type { DependencyContainer } from 'tsyringe';

export type Token<T> = symbol & { readonly __type?: T };

export const token = <T>(name: string): Token<T> => Symbol.for(`@pagewalk/${name}`) as Token<T>;

/**
 * Resolution is local to the kernel's own container: a kernel container is
 * a child of tsyringe's global root, and a registration in that root (by
 * anyone who imports tsyringe) must not reach any kernel (issue 19).
 * Tokens registered in the kernel's container resolve to those
 * registrations only; others to nothing.
 */
export function resolveToken<T>(container: DependencyContainer, t: Token<T>): T {
  if (!container.isRegistered(t, false)) throw new Error(`nothing is registered under ${String(t)} in this kernel`);
  return container.resolve<T>(t);
}

export function resolveAllTokens<T>(container: DependencyContainer, t: Token<T>): T[] {
  return container.isRegistered(t, false) ? container.resolveAll<T>(t) : [];
}
