/**
 * Typed DI tokens: a symbol that remembers the type it resolves to, named
 * with Symbol.for so a token keeps its identity even if two copies of a
 * package are loaded (STYLE.md 2.6).
 */
import type { DependencyContainer } from 'tsyringe';

export type Token<T> = symbol & { readonly __type?: T };

export const token = <T>(name: string): Token<T> => Symbol.for(`@pagewalk/${name}`) as Token<T>;

export function resolveToken<T>(container: DependencyContainer, t: Token<T>): T {
  return container.resolve<T>(t);
}

export function resolveAllTokens<T>(container: DependencyContainer, t: Token<T>): T[] {
  return container.isRegistered(t, true) ? container.resolveAll<T>(t) : [];
}
