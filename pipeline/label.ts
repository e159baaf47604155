/**
 * A class label as it appears in the data: a string, or a number when the labels are numeric.
 * Its own module at the bottom of the import graph, beside `errors.ts` and `json.ts`, because
 * the dataset, the metrics and the model families all name classes with it and none of those
 * leaves may import another.
 */
export type Label = string | number;
