// The feature packages the CLI loads, imported statically so that they are
// bundled into the browser app (the CLI finds them at run time instead).
import * as guardPages from '@pagewalk/guard-pages';
import * as hmmMigrate from '@pagewalk/hmm-migrate';
import * as pagemapScan from '@pagewalk/pagemap-scan';
import * as uffdWp from '@pagewalk/uffd-wp';
import { scenarioFeatureOf, type ScenarioFeature } from '@pagewalk/scenario-runner/session';

export const EXPLORER_FEATURES: readonly ScenarioFeature[] = [
  scenarioFeatureOf('guard-pages', guardPages),
  scenarioFeatureOf('pagemap-scan', pagemapScan),
  scenarioFeatureOf('uffd-wp', uffdWp),
  scenarioFeatureOf('hmm-migrate', hmmMigrate),
];
