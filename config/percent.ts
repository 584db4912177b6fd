/** Envoy's FractionalPercent (envoy.type.v3.FractionalPercent): a numerator over 100, 10 000 or 1 000 000. */
import { int, object, oneOfValues, optional } from './schema.js';

export const fractionalPercent = object({
  numerator: int({ min: 0 }),
  denominator: optional(oneOfValues(['HUNDRED', 'TEN_THOUSAND', 'MILLION'])),
}, { proto: 'envoy.type.v3.FractionalPercent' });
