// Tables of the commerce module: catalogue, orders, invoices, payments, contracts (issue 5, R11).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CommerceTables {}
