// The feature packages the CLI loads, imported statically so that they are
// bundled into the browser app (the CLI finds them at run time instead):
// each package's one `plugin` export.
import { plugin as guardPages } from '@pagewalk/guard-pages';
import { plugin as hmmMigrate } from '@pagewalk/hmm-migrate';
import { plugin as pagemapScan } from '@pagewalk/pagemap-scan';
import { plugin as uffdWp } from '@pagewalk/uffd-wp';
import { checkFeaturePlugins, type ScenarioFeature } from '@pagewalk/scenario-runner/session';

export const EXPLORER_FEATURES: readonly ScenarioFeature[] = checkFeaturePlugins([guardPages, pagemapScan, uffdWp, hmmMigrate]);
