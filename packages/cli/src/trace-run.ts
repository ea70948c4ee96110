// `pagewalk run --trace`: the scenario run op by op with core-walk's
// kernel.trace() on; every walk event is printed as a JSON line
// {"op": index, "trace": event} before the scenario's results line.
import type { OpResult, Scenario } from '@pagewalk/scenario';
import { createScenarioSession, type ScenarioFeature } from '@pagewalk/scenario-runner';

export function runTraced(scenario: Scenario, features: readonly ScenarioFeature[], write: (line: string) => void): OpResult[] {
  const session = createScenarioSession(scenario, { features });
  let index = 0;
  session.kernel.trace((event) => write(`${JSON.stringify({ op: index, trace: event })}\n`));
  const results: OpResult[] = [];
  for (; index < scenario.ops.length; index++) results.push(session.execute(scenario.ops[index]!));
  session.kernel.trace(null);
  return results;
}
