/**
 * How a QS layer chooses and weighs its queries. `global`: entropy of the rows of the global attention
 * softmax(T·Tᵀ), values = those rows · T. `local`: entropy of the attention over each position's k×k
 * neighbourhood, values = that local attention · the neighbourhood. `local_global`: the local entropy
 * chooses, the global attention rows weigh.
 */
export const QUERY_MODES = ['global', 'local', 'local_global'] as const;
export type QueryMode = (typeof QUERY_MODES)[number];

export function checkQueryMode(mode: string): asserts mode is QueryMode {
  if (!(QUERY_MODES as readonly string[]).includes(mode)) {
    throw new Error(`unknown QS mode '${mode}': choose one of ${QUERY_MODES.join(', ')}`);
  }
}
