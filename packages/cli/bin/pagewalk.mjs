#!/usr/bin/env node
// The `pagewalk` command. A committed shim, so package managers can link the
// bin before the TypeScript build has produced dist/.
import '../dist/bin.js';
