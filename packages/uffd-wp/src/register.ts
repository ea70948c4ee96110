/**
 * The plugin: the only file that touches the container. It registers the
 * fault-path hook and the service under the core's and PAGEMAP_SCAN's tokens.
 */
import { FeatureServiceToken, UffdWpRangeToken, UserfaultHandlerToken, type DependencyContainer, type Feature } from '@pagewalk/core-walk';
import { userfaultHandler } from './fault-handler.js';
import { PagemapScanUffdQuery, UffdWp, uffdWpService } from './service.js';
import { pagemapWpOps } from './pagemap-wp.js';

export const uffdWp: Feature = {
  name: 'uffd-wp',
  install(container: DependencyContainer): void {
    container.register(UserfaultHandlerToken, { useValue: userfaultHandler });
    container.register(UffdWp, { useValue: uffdWpService });
    container.register(PagemapScanUffdQuery, { useValue: uffdWpService });
    container.register(UffdWpRangeToken, { useValue: pagemapWpOps });
    container.register(FeatureServiceToken, { useValue: { name: 'uffd-wp', service: uffdWpService } });
  },
};
