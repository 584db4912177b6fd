/**
 * A count of the bytes the unframed scanner was handed, across all codecs of the process:
 * the work measure that shows whether scanning stays linear in a message's size when it
 * arrives in many small chunks. One integer add per scan attempt (not per byte).
 */
export const unframedScanWork = { bytes: 0 };
