// The layering of the house (docs/architecture.md), checked in CI by `npm run layering`.
// Each rule names a room and the only rooms it may import from; a new exception is a design
// change, not a config tweak: change docs/architecture.md first.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'config-is-the-ground-floor',
      comment: 'config/ is the vocabulary every room shares: it imports only codecs/api types and itself.',
      severity: 'error',
      from: { path: '^config/' },
      to: { path: '^(proxy|filters|xds-client|tools|codecs/(?!api/))' },
    },
    {
      name: 'codecs-import-only-codecs-api-and-config',
      comment: 'A codec is a plug-in: it sees codecs/api and config/, never the runtime.',
      severity: 'error',
      from: { path: '^codecs/' },
      to: { path: '^(proxy|filters|xds-client|tools)/' },
    },
    {
      name: 'a-codec-imports-no-other-codec',
      comment: 'Codecs share code only through codecs/api (the kit only tests codecs through the SPI).',
      severity: 'error',
      from: { path: '^codecs/([^/]+)/', pathNot: '^codecs/api/' },
      to: { path: '^codecs/', pathNot: ['^codecs/$1/', '^codecs/api/'] },
    },
    {
      name: 'filter-api-sees-codecs-api-and-config',
      comment: 'filters/api is the public filter SPI: it may name codec types and config, nothing of the runtime.',
      severity: 'error',
      from: { path: '^filters/api/' },
      to: { path: '^(proxy|xds-client|tools|filters/(?!api/)|codecs/(?!api/))' },
    },
    {
      name: 'filters-import-only-filter-api-codec-api-and-config',
      comment: 'A built-in filter is written as a filter package would be: filters/api, codecs/api, config/ and its own folder.',
      severity: 'error',
      from: { path: '^filters/([^/]+)/', pathNot: '^filters/api/' },
      to: {
        path: '^(proxy|xds-client|tools|codecs|filters)/',
        pathNot: ['^filters/$1/', '^filters/api/', '^codecs/api/'],
      },
    },
    {
      name: 'xds-client-is-transport-only',
      comment: 'xds-client knows streams, nonces, versions and caches; what resources mean lives in proxy/dynamic.',
      severity: 'error',
      from: { path: '^xds-client/' },
      to: { path: '^(proxy|filters|tools)/' },
    },
    {
      name: 'nothing-ships-imports-tests-or-bench',
      comment: 'test/ and bench/ sit on top; nothing that ships may depend on them.',
      severity: 'error',
      from: { path: '^(config|codecs|filters|proxy|xds-client|tools|scripts|examples)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-circular',
      comment: 'Import cycles make start-up order and tests fragile.',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
