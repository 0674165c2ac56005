/**
 * Layers of the data path (ARCHITECTURE.md): imports follow the data, never against it.
 * `npm run lint` runs this; test/unit/lint/layers.test.ts proves a wrong import fails it.
 *
 * The metrics registry and the logger (gateway/runtime/metrics.ts, log.ts) are leaves that every
 * part of the gateway reports to (they import nothing of the project): the rules below let any
 * gateway part import them, and nothing else of the runtime.
 */
const observability = '^gateway/runtime/(metrics|log)\\.ts$';
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle means two modules are one; split what they share into the lower one.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'model-is-the-bottom',
      severity: 'error',
      comment: 'gateway/model holds the shared shapes; it imports nothing of the project above it.',
      from: { path: '^gateway/model/' },
      to: { path: '^(gateway/(?!model/)|drivers/|simulators/)' },
    },
    {
      name: 'drivers-import-only-the-model',
      severity: 'error',
      comment: 'A driver sees the gateway only through gateway/model; the core knows no protocol.',
      from: { path: '^drivers/' },
      to: { path: '^(gateway/(?!model/)|simulators/)' },
    },
    {
      name: 'drivers-stay-in-their-folder',
      severity: 'error',
      comment: 'A driver imports drivers/core, the profile envelope and its own folder (the registry drivers/index.ts wires them).',
      from: { path: '^drivers/([^/]+)/', pathNot: '^drivers/index\\.ts$' },
      to: { path: '^drivers/', pathNot: ['^drivers/core/', '^drivers/$1/', '^drivers/profiles/schema\\.ts$'] },
    },
    {
      name: 'pipeline-before-store',
      severity: 'error',
      comment: 'pipeline is pure: it sees the model only (the store is handed in by the composition root).',
      from: { path: '^gateway/pipeline/' },
      to: { path: '^(gateway/(?!(model|pipeline)/)|drivers/)', pathNot: observability },
    },
    {
      name: 'store-never-reaches-back',
      severity: 'error',
      comment: 'The store is below sinks, KPIs, API and runtime; it knows none of them.',
      from: { path: '^gateway/store/' },
      to: { path: '^(gateway/(?!(model|store)/)|drivers/)' },
    },
    {
      name: 'consumers-do-not-import-each-other-upwards',
      severity: 'error',
      comment:
        'sinks and kpi consume the store; neither knows the API, the runtime, the CLI or the app. An mqtt sink borrows an mqtt connection, so a sink may read a driver\'s connection schema, and nothing else of a driver.',
      from: { path: '^gateway/(sinks|kpi)/' },
      to: { path: '^gateway/(api|runtime|cli|broker|web)/|^gateway/app\\.ts$|^drivers/', pathNot: [observability, '^drivers/[^/]+/connection-schema\\.ts$'] },
    },
    {
      name: 'api-below-runtime',
      severity: 'error',
      comment: 'The API serves what it is handed; the runtime and app wire it, not the other way.',
      from: { path: '^gateway/api/' },
      to: { path: '^gateway/(runtime|cli)/|^gateway/app\\.ts$|^drivers/', pathNot: observability },
    },
    {
      name: 'nothing-imports-the-runtime-but-app-and-cli',
      severity: 'error',
      comment: 'runtime is the supervisor: only the composition root and the CLI use it.',
      from: { path: '^(gateway/(model|pipeline|store|sinks|kpi|api|broker|config)/|drivers/)' },
      to: { path: '^gateway/runtime/', pathNot: observability },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|test|gateway/web/vendor)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
