import { packageProject } from '../../vitest.shared.js';
import pkg from './package.json' with { type: 'json' };

export default packageProject(pkg.name);
