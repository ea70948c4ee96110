// A small, strict option parser: every command declares its options, and an
// unknown option, a missing value or a bad number is a UsageError.
import { UsageError } from './cli-error.js';

export interface OptionSpec {
  /** Takes a value (`--count 10` or `--count=10`); otherwise a boolean flag. */
  value?: boolean;
  /** A flag that may also be given a value (`--trace` or `--trace=walk,fault`). */
  optionalValue?: boolean;
}

export interface ParsedArguments {
  options: Map<string, string | true>;
  positionals: string[];
}

export function parseArguments(command: string, argv: readonly string[], specs: Record<string, OptionSpec>): ParsedArguments {
  const options = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] as string;
    if (argument === '--') {
      positionals.push(...argv.slice(index + 1));
      break;
    }
    if (argument === '-h') {
      options.set('help', true);
      continue;
    }
    if (!argument.startsWith('--') || argument === '-') {
      if (argument.startsWith('-') && argument !== '-') throw new UsageError(`unknown option "${argument}" for "pagewalk ${command}" (see pagewalk ${command} --help)`);
      positionals.push(argument);
      continue;
    }
    const equals = argument.indexOf('=');
    const name = argument.slice(2, equals === -1 ? undefined : equals);
    const spec = name === 'help' ? {} : specs[name];
    if (spec === undefined) throw new UsageError(`unknown option "--${name}" for "pagewalk ${command}" (see pagewalk ${command} --help)`);
    if (!spec.value) {
      if (equals !== -1 && spec.optionalValue && argument.length > equals + 1) {
        options.set(name, argument.slice(equals + 1));
        continue;
      }
      if (equals !== -1) throw new UsageError(`option "--${name}" takes no value`);
      options.set(name, true);
      continue;
    }
    let value: string | undefined;
    if (equals !== -1) {
      value = argument.slice(equals + 1);
    } else {
      value = argv[index + 1];
      index++;
    }
    if (value === undefined || value === '') throw new UsageError(`option "--${name}" needs a value`);
    options.set(name, value);
  }
  return { options, positionals };
}

/** An integer option value within bounds. */
export function integerOption(parsed: ParsedArguments, name: string, fallback: number, minimum: number, maximum: number): number {
  const value = parsed.options.get(name);
  if (value === undefined) return fallback;
  const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < minimum || number > maximum) {
    throw new UsageError(`option "--${name}" must be an integer from ${minimum} to ${maximum}, got "${String(value)}"`);
  }
  return number;
}

export function stringOption(parsed: ParsedArguments, name: string): string | undefined {
  const value = parsed.options.get(name);
  return typeof value === 'string' ? value : undefined;
}
