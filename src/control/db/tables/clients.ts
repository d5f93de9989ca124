// Tables of the clients module: client identity and proof-of-identity requests (issue 5, R6.1).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ClientTables {}
