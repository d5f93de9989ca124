// Tables of the mail module: mail templates' records, notices chain (issue 5: access codes by email, R3.1; every client notice).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface MailTables {}
