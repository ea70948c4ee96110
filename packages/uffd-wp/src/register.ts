/**
 * The kernel half of the plugin: the only file that touches the container.
 * It registers the fault-path hook, the service under its own token and,
 * for PAGEMAP_SCAN, under core-walk's UffdWpAsyncQueryToken.
 */
import { UffdWpAsyncQueryToken, UffdWpRangeToken, UserfaultHandlerToken, type DependencyContainer, type Feature } from '@pagewalk/core-walk';
import { userfaultHandler } from './fault-handler.js';
import { UffdWp, uffdWpService } from './service.js';
import { pagemapWpOps } from './pagemap-wp.js';

export const uffdWp: Feature = {
  name: 'uffd-wp',
  install(container: DependencyContainer): void {
    container.register(UserfaultHandlerToken, { useValue: userfaultHandler });
    container.register(UffdWp, { useValue: uffdWpService });
    container.register(UffdWpAsyncQueryToken, { useValue: uffdWpService });
    container.register(UffdWpRangeToken, { useValue: pagemapWpOps });
  },
};
