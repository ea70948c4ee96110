/**
 * The scenario ops of SCENARIO.md this feature implements (uffd_open,
 * uffd_register, uffd_unregister, uffd_wp) and the runner's default fault
 * handler, with the kernel runner's semantics: one userfaultfd per
 * scenario, EBADF before it is opened, EINVAL for a second open.
 * The handler types are @pagewalk/scenario's FeaturePlugin contract
 * (this package needs the runner only for its tests).
 */
import { PAGE_SIZE, PMD_SIZE, errnoName, type Kernel, type Mm } from '@pagewalk/core-walk';
import type {
  OpName,
  OpResult,
  ScenarioOpContext,
  ScenarioOpHandler as ContractHandler,
  ScenarioOpHandlers,
  ScenarioOpOf,
  UffdFaultFlagName,
  UffdFeatureName,
  UffdModeName,
} from '@pagewalk/scenario';
import {
  O_CLOEXEC,
  UFFD_API,
  UFFD_EVENT_PAGEFAULT,
  UFFD_FEATURE_BITS,
  UFFD_PAGEFAULT_FLAG_MINOR,
  UFFD_PAGEFAULT_FLAG_WP,
  UFFD_PAGEFAULT_FLAG_WRITE,
  UFFDIO_REGISTER_MODE_MINOR,
  UFFDIO_REGISTER_MODE_MISSING,
  UFFDIO_REGISTER_MODE_WP,
  UFFDIO_WRITEPROTECT_MODE_WP,
} from './uapi.js';
import { userfaultfd, type UffdHandler, type UserfaultfdCtx } from './userfaultfd-ctx.js';

/** What a handler sees: @pagewalk/scenario's ScenarioOpContext over core-walk's kernel and mm. */
export type ScenarioContext = ScenarioOpContext<Kernel, Mm>;
export type ScenarioOpHandler = ContractHandler<Kernel, Mm>;

/** Per-scenario state, under featureState.get('uffd-wp'). */
export interface UffdScenarioState {
  readonly ctx: UserfaultfdCtx;
}

export const UFFD_MODE_BITS: Record<UffdModeName, number> = {
  missing: UFFDIO_REGISTER_MODE_MISSING,
  wp: UFFDIO_REGISTER_MODE_WP,
  minor: UFFDIO_REGISTER_MODE_MINOR,
};

const STATE_KEY = 'uffd-wp';
/** 2 MiB of zeros: UFFDIO_COPY's source for hugetlb missing faults (there is no hugetlb zero page). */
let zeroHuge: Uint8Array | null = null;

function result(op: OpName, value: number): OpResult {
  return value >= 0 ? { op, ret: 0 } : { op, ret: -1, errno: errnoName(-value) };
}

/** The fault flags as a result lists them: the kind, then "write". */
export function faultFlagNames(flags: number): UffdFaultFlagName[] {
  const kind: UffdFaultFlagName = (flags & UFFD_PAGEFAULT_FLAG_WP) !== 0 ? 'wp' : (flags & UFFD_PAGEFAULT_FLAG_MINOR) !== 0 ? 'minor' : 'missing';
  return (flags & UFFD_PAGEFAULT_FLAG_WRITE) !== 0 ? [kind, 'write'] : [kind];
}

/**
 * The kernel runner's handler thread (SCENARIO.md "Userfaultfd faults"):
 * each fault is recorded, then answered — WP: UFFDIO_WRITEPROTECT mode 0
 * of that page (the huge page for hugetlb); MINOR: UFFDIO_CONTINUE;
 * MISSING: UFFDIO_ZEROPAGE (hugetlb: UFFDIO_COPY of zeros). A failed
 * answer is followed by UFFDIO_WAKE so the faulting access never sleeps.
 */
export function scenarioFaultHandler(context: ScenarioContext): UffdHandler {
  return (ctx) => {
    for (;;) {
      const messages = ctx.read();
      if (typeof messages === 'number') return;
      for (const msg of messages) {
        if (msg.event !== UFFD_EVENT_PAGEFAULT) continue;
        let addr = msg.address - (msg.address % PAGE_SIZE);
        let len = PAGE_SIZE;
        const huge = context.mm.vmas.lookup(addr)?.isHugetlb ?? false;
        if (huge) {
          addr -= addr % PMD_SIZE;
          len = PMD_SIZE;
        }
        context.recordUffdFault({ page: context.pageOf(addr), flags: faultFlagNames(msg.flags) });
        let ret: number;
        if ((msg.flags & UFFD_PAGEFAULT_FLAG_WP) !== 0) {
          ret = ctx.writeProtect({ range: { start: addr, len }, mode: 0 });
        } else if ((msg.flags & UFFD_PAGEFAULT_FLAG_MINOR) !== 0) {
          ret = ctx.continueRange({ range: { start: addr, len }, mode: 0 });
        } else if (huge) {
          zeroHuge ??= new Uint8Array(PMD_SIZE);
          ret = ctx.copy({ dst: addr, src: zeroHuge, len, mode: 0 });
        } else {
          ret = ctx.zeropage({ range: { start: addr, len }, mode: 0 });
        }
        if (ret !== 0) ctx.wake({ start: addr, len });
      }
    }
  };
}

function stateOf(context: ScenarioContext): UffdScenarioState | undefined {
  return context.featureState.get(STATE_KEY) as UffdScenarioState | undefined;
}

function handler<Name extends OpName>(run: (op: ScenarioOpOf<Name>, context: ScenarioContext) => OpResult): ScenarioOpHandler {
  return (op, context) => run(op as ScenarioOpOf<Name>, context);
}

/** The one userfaultfd of a scenario, or undefined before uffd_open. */
export function scenarioUffd(context: Pick<ScenarioContext, 'featureState'>): UserfaultfdCtx | undefined {
  return (context.featureState.get(STATE_KEY) as UffdScenarioState | undefined)?.ctx;
}

export const scenarioOps: ScenarioOpHandlers<Kernel, Mm> = {
  uffd_open: handler<'uffd_open'>((op, context) => {
    if (stateOf(context) !== undefined) return result('uffd_open', -22);
    const made = userfaultfd(context.mm, O_CLOEXEC);
    if (typeof made === 'number') return result('uffd_open', made);
    let features = 0;
    for (const name of op.features as UffdFeatureName[]) features |= UFFD_FEATURE_BITS[name];
    const ret = made.api({ api: UFFD_API, features });
    if (ret < 0) {
      made.close();
      return result('uffd_open', ret);
    }
    made.setHandler(scenarioFaultHandler(context));
    context.featureState.set(STATE_KEY, { ctx: made } satisfies UffdScenarioState);
    return result('uffd_open', 0);
  }),
  uffd_register: handler<'uffd_register'>((op, context) => {
    const ctx = scenarioUffd(context);
    if (ctx === undefined) return result('uffd_register', -9);
    let mode = 0;
    for (const name of op.modes) mode |= UFFD_MODE_BITS[name];
    return result('uffd_register', ctx.register({ range: { start: context.addressOf(op.page), len: op.pages * PAGE_SIZE }, mode }));
  }),
  uffd_unregister: handler<'uffd_unregister'>((op, context) => {
    const ctx = scenarioUffd(context);
    if (ctx === undefined) return result('uffd_unregister', -9);
    return result('uffd_unregister', ctx.unregister({ start: context.addressOf(op.page), len: op.pages * PAGE_SIZE }));
  }),
  uffd_wp: handler<'uffd_wp'>((op, context) => {
    const ctx = scenarioUffd(context);
    if (ctx === undefined) return result('uffd_wp', -9);
    return result(
      'uffd_wp',
      ctx.writeProtect({ range: { start: context.addressOf(op.page), len: op.pages * PAGE_SIZE }, mode: op.wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0 }),
    );
  }),
};
