// Tables of the infra module: datacenters, IP pools and addresses, hosts, VPSs, network state and traffic counters (issues 3 and 4).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InfraTables {}
