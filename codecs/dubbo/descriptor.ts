/**
 * Counts the parameters of a JVM method descriptor such as `Ljava/lang/String;I[J`, which
 * says how many hessian2 values sit between the descriptor and the attachments.
 */
export function countParameters(desc: string): number {
  let count = 0;
  let i = 0;
  while (i < desc.length) {
    let c = desc[i]!;
    while (c === '[') {
      i++;
      c = desc[i] ?? '';
    }
    if (c === 'L') {
      const end = desc.indexOf(';', i);
      if (end < 0) throw new Error(`bad parameter descriptor '${desc}'`);
      i = end + 1;
    } else if ('ZBCDFIJSV'.includes(c) && c !== '') {
      i++;
    } else {
      throw new Error(`bad parameter descriptor '${desc}'`);
    }
    count++;
  }
  return count;
}
