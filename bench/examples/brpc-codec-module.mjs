// A codec module for `--protocol custom --codec-module examples/brpc-codec-module.mjs`: Meltemi's
// built-in bRPC codec dressed as a custom codec package, to show (and test) the hook a real
// package uses. A package of your own exports the same shape, with its own factory, its own
// request and response frames, and `codecPackage` naming the package for Meltemi to load, e.g.:
//
//   import { myCodecFactory } from './dist/index.js';
//   export const benchAdapter = {
//     name: 'my-protocol', factory: myCodecFactory, codecPackage: './dist/index.js',
//     routeMatch: [{ name: 'service', exact_match: 'Echo' }, { name: 'method', exact_match: 'echo' }],
//     minFrameSize: 32,
//     requestFrame(frameSize) { ... a two-way request of exactly frameSize bytes ... },
//     responseFrame(request) { ... the OK reply carrying request's payload back ... },
//   };
import { brpcCodecFactory } from '../../dist/codecs/brpc/index.js';
import { brpcAdapter } from '../dist/protocols/brpc.js';

export const benchAdapter = { ...brpcAdapter(brpcCodecFactory), name: 'custom-brpc' };
