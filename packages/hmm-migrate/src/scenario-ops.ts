/**
 * The scenario ops of SCENARIO.md "Device ops" (simulator only): one test
 * device per scenario, opened by the scenario's process on first use.
 * The handler types are @pagewalk/scenario's FeaturePlugin contract.
 */
import { PAGE_SIZE, errnoName, type Kernel, type Mm } from '@pagewalk/core-walk';
import type {
  DeviceSnapshotName,
  OpName,
  OpResult,
  ScenarioOpContext,
  ScenarioOpHandler,
  ScenarioOpHandlers,
  ScenarioOpOf,
} from '@pagewalk/scenario';
import {
  HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL,
  HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE,
  HMM_DMIRROR_PROT_ERROR,
  HMM_DMIRROR_PROT_NONE,
  HMM_DMIRROR_PROT_PMD,
  HMM_DMIRROR_PROT_PUD,
  HMM_DMIRROR_PROT_READ,
  HMM_DMIRROR_PROT_WRITE,
  HMM_DMIRROR_PROT_ZERO,
  HmmTestDevice,
  type HmmMirror,
} from './dmirror.js';

/** What a handler sees: @pagewalk/scenario's ScenarioOpContext over core-walk's kernel and mm. */
export type DeviceScenarioContext = ScenarioOpContext<Kernel, Mm>;

export type DeviceScenarioOpHandler = ScenarioOpHandler<Kernel, Mm>;

const STATE_KEY = 'hmm-migrate';

/** The scenario's mirror (device opened by the scenario's process), created on first use. */
export function scenarioMirror(context: DeviceScenarioContext): HmmMirror {
  let mirror = context.featureState.get(STATE_KEY) as HmmMirror | undefined;
  if (mirror === undefined) {
    mirror = new HmmTestDevice(context.kernel, 'hmm_dmirror0').open(context.mm);
    context.featureState.set(STATE_KEY, mirror);
  }
  return mirror;
}

/** SNAPSHOT byte → entry names, in the scenario format's order. */
export function snapshotNames(code: number): DeviceSnapshotName[] {
  if (code === HMM_DMIRROR_PROT_ERROR) return ['error'];
  if (code === HMM_DMIRROR_PROT_NONE) return ['none'];
  const names: DeviceSnapshotName[] = [];
  if ((code & HMM_DMIRROR_PROT_READ) !== 0) names.push('read');
  if ((code & HMM_DMIRROR_PROT_WRITE) !== 0) names.push('write');
  if ((code & HMM_DMIRROR_PROT_PMD) !== 0) names.push('pmd');
  if ((code & HMM_DMIRROR_PROT_PUD) !== 0) names.push('pud');
  const kind = code & 0xf0;
  if (kind === HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL) names.push('dev_private_local');
  else if (kind === HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE) names.push('dev_private_remote');
  else if (kind === HMM_DMIRROR_PROT_ZERO) names.push('zero');
  return names;
}

function failure(op: OpName, ret: number): OpResult {
  return { op, ret: -1, errno: errnoName(-ret) };
}

function handler<Name extends OpName>(run: (op: ScenarioOpOf<Name>, context: DeviceScenarioContext) => OpResult): DeviceScenarioOpHandler {
  return (op, context) => run(op as ScenarioOpOf<Name>, context);
}

export const scenarioOps: ScenarioOpHandlers<Kernel, Mm> = {
  dev_migrate: handler<'dev_migrate'>((op, context) => {
    const result = scenarioMirror(context).migrateToDevice(context.addressOf(op.page), op.pages);
    return result.ret !== 0 ? failure('dev_migrate', result.ret) : { op: 'dev_migrate', ret: 0, migrated: result.cpages };
  }),
  dev_migrate_back: handler<'dev_migrate_back'>((op, context) => {
    const result = scenarioMirror(context).migrateToSystem(context.addressOf(op.page), op.pages);
    return result.ret !== 0 ? failure('dev_migrate_back', result.ret) : { op: 'dev_migrate_back', ret: 0, migrated: result.cpages };
  }),
  dev_read: handler<'dev_read'>((op, context) => {
    const result = scenarioMirror(context).read(context.addressOf(op.page), op.pages);
    if (result.ret !== 0) return failure('dev_read', result.ret);
    const bytes: number[] = [];
    for (let i = 0; i < op.pages; i++) bytes.push(result.data![i * PAGE_SIZE]!);
    return { op: 'dev_read', ret: 0, bytes };
  }),
  dev_write: handler<'dev_write'>((op, context) => {
    const data = new Uint8Array(Math.max(0, op.pages) * PAGE_SIZE).fill(op.byte);
    const result = scenarioMirror(context).write(context.addressOf(op.page), op.pages, data);
    return result.ret !== 0 ? failure('dev_write', result.ret) : { op: 'dev_write', ret: 0 };
  }),
  dev_snapshot: handler<'dev_snapshot'>((op, context) => {
    const result = scenarioMirror(context).snapshot(context.addressOf(op.page), op.pages);
    if (result.ret !== 0) return failure('dev_snapshot', result.ret);
    return { op: 'dev_snapshot', ret: 0, entries: [...result.perm!].map(snapshotNames) };
  }),
};
