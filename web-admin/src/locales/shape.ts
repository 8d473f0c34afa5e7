// The English file of a set of words must carry exactly the Chinese file's keys.
export type Shape<T> = { [K in keyof T]: T[K] extends string ? string : Shape<T[K]> }
