// Page sizes of the API's lists (cursor pagination: src/control/repositories/pagination.ts).
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
