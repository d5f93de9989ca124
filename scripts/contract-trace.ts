// The trace of the contract (../shared/CONTRACT.md, R2.1 … R12.6): for each clause, where the
// product enforces it. scripts/gen-contract.ts turns it into docs/contract.md's tables and FINDS
// the tests: a test file is listed for a clause when one of its it(…)/test(…)/describe(…) titles
// carries the clause ID. test/unit/contract-trace.test.ts fails when a file named here is missing,
// when a built or partly built clause has no test named for it, or when docs/contract.md is stale
// (regenerate: node scripts/gen-contract.ts).
//
// status: 'built'    the product does what the clause says, and tests named for it prove it;
//         'partly'   some of it is built (named, tested), `missing` says what is not;
//         'not yet'  nothing enforces it yet (at most its numbers in src/domain/terms.ts).

export type ClauseStatus = 'built' | 'partly' | 'not yet';

export interface Clause {
  /** As in the contract: R3.6, R10. */
  id: string;
  /** A short title of the clause. */
  title: string;
  status: ClauseStatus;
  /** The files that enforce it (src/ or web/), most central first. */
  sources: string[];
  /** How: what those files do for the clause (markdown, one paragraph). */
  note: string;
  /** For 'partly' (and 'not yet' when something exists): what is not built. */
  missing?: string;
}

/** A rule every clause relies on (../shared/CONTRACT.md "What every clause gets"). */
export interface Foundation {
  rule: string;
  sources: string[];
  note?: string;
  /** Listed by hand: these rules carry no clause ID. */
  tests: string[];
}

export const clauses: Clause[] = [
  {
    id: 'R2.1',
    title: 'dedicated disk, never overcommitted',
    status: 'built',
    sources: [
      'src/agent/qemu/driver.ts',
      'src/domain/placement.ts',
      'src/agent/qemu/lifecycle.ts',
      'src/agent/disks/disks.ts',
      'web/src/pages/console/Hosts.tsx',
    ],
    note: "disk fully reserved by `define` (`src/agent/qemu/driver.ts`), placement refuses a host without room; console Hosts page: disk placed vs the host's disk, driver's reserved/free (`GET /v1/admin/hosts/:id`)",
  },
  {
    id: 'R2.2',
    title: 'vCPU/RAM shared, host overcommit ratios are settings',
    status: 'built',
    sources: [
      'src/control/config.ts',
      'src/domain/placement.ts',
      'src/control/repositories/hosts.ts',
      'web/src/pages/console/Hosts.tsx',
    ],
    note: '`src/control/config.ts` (`INFOGERE_CPU_OVERCOMMIT`, `INFOGERE_RAM_OVERCOMMIT`), per-host ratios on `hosts`; console Hosts page bars: vCPU placed vs cores × ratio, RAM vs memory × ratio; `infogere hosts list`',
  },
  {
    id: 'R2.3',
    title: "reachable from the Internet; panel, API, SSH for the contract's life",
    status: 'built',
    sources: ['src/control/services/provisioning.ts', 'src/control/services/termination-workflow.ts'],
    note: "each VPS gets its fixed public IPv4 on the host bridge (uplink to the provider's network, `INFOGERE_AGENT_UPLINK`) at provisioning (`src/control/services/provisioning.ts`); clients reach the panel and the API (`/v1`) and their VPS over SSH as their own user for as long as the contract runs; access ends with the termination (`src/control/services/termination-workflow.ts`)",
  },
  {
    id: 'R3.1',
    title: 'access codes by email on validation',
    status: 'built',
    sources: [
      'src/control/services/infra.ts',
      'src/control/services/provisioning.ts',
      'src/control/services/access-codes.ts',
    ],
    note: "validation queues `vps.provision` in its transaction (`src/control/services/infra.ts` `requestVps`); the workflow's last step sends `vps.access_codes` (hostname, IPv4, user, one-time link; no password in the mail) in one transaction with the link and the mark, so exactly once (`src/control/services/provisioning.ts`); the link reveals the initial password once, 72 h, by POST, then erases it (`src/control/services/access-codes.ts`, `POST /v1/access-codes/reveal`); mail delivery and notice `src/control/mail/`; the link (token in the URL fragment) is never stored usable: the outbox keeps the mail with it withheld, the link sealed until the relay accepts the mail or it expires; staff reads of a mail audited; request logs without query strings",
  },
  {
    id: 'R3.2',
    title: 'fixed IPv4 geolocated, pools per datacenter, geofeed',
    status: 'built',
    sources: [
      'src/control/services/infra.ts',
      'src/control/routes/infra.ts',
      'src/control/services/provisioning.ts',
      'web/src/pages/console/Network.tsx',
    ],
    note: 'pools, addresses (exclusion constraint, quarantine), geofeed: `src/control/services/infra.ts`, `src/control/routes/infra.ts`; the address at provisioning: `src/control/services/provisioning.ts`; console pools with a usage bar: `web/src/pages/console/Network.tsx`',
  },
  {
    id: 'R3.3',
    title: "host and VPS remain the provider's property",
    status: 'built',
    sources: ['src/control/routes/vps.ts', 'src/control/routes/hosts.ts', 'src/agent/qemu/confine.ts'],
    note: 'hosts and VPSs are provider records; power, console and alerts are staff routes (`src/control/routes/vps.ts`), hosts and their orphans too (`src/control/routes/hosts.ts`); a client only starts/stops/reboots their own VPS, never a suspended one; QEMU never root: a uid per VM, seccomp sandbox, disk, config drive, tap and sockets passed as descriptors (`src/agent/qemu/confine.ts`, docs/hypervisor.md)',
  },
  {
    id: 'R3.4',
    title: 'provider is the only root; client account without root/sudo',
    status: 'built',
    sources: [
      'src/domain/orders.ts',
      'src/agent/image/config-drive.ts',
      'src/control/services/provisioning.ts',
      'src/agent/qemu/guest.ts',
      'src/control/routes/vps.ts',
    ],
    note: "the client's account name is a valid Unix name, never root or a system account (`src/domain/orders.ts`); the config drive's user-data gives it no `sudo` and no groups, root only a hash of a random password (`src/agent/image/config-drive.ts`; guest image `scripts/guest-image/build.sh`: no sudo, root login over SSH refused; the Debian image `scripts/guest-image/debian/`: no sudo package, `su` root-only by `dpkg-statoverride`, `PermitRootLogin no`, checked over SSH by `test/agent/debian-image.test.ts`); root's password sealed, the provider's alone, and the provisioning checks the client's uid is not 0 (`src/control/services/provisioning.ts`); root in the guest only through the guest agent's socket (`src/agent/qemu/guest.ts`); the serial console is staff only (`src/control/routes/vps.ts`); the client's VPS page says the provider administers it",
  },
  {
    id: 'R3.5',
    title: 'security updates; email before a reboot',
    status: 'not yet',
    sources: [],
    note: '',
    missing: 'the updates module',
  },
  {
    id: 'R3.6',
    title: 'backup every 24 h, 15 days sliding, other datacenter',
    status: 'partly',
    sources: [
      'src/control/services/backups.ts',
      'src/domain/backups.ts',
      'src/agent/qemu/backup.ts',
      'src/agent/backup/restic.ts',
      'src/control/repositories/backups.ts',
      'src/control/routes/backups.ts',
    ],
    note: "targets per datacenter (restic REST or SFTP; append-only endpoint for hosts, full-access one for the platform, both sealed), a VPS's repository only on a target of another datacenter (400 `backup.same_datacenter`), staff list the VPSs without a valid target (`GET /v1/admin/backups/unprotected`); one repository per VPS, its key generated and sealed, passed to restic by environment only; the host's backup freezes the guest, takes a QEMU overlay, thaws (freeze measured), streams the frozen disk into `restic backup --stdin` and merges the overlay back, crash-consistent without guest agent (`src/agent/qemu/backup.ts`, docs/backups.md); the sweep queues each VPS once per 24 h at its slot of the day (`src/domain/backups.ts`) within per-host and per-target limits, one running per VPS (unique index), retries after 1 h, a staff alert after 3 failures in 24 h; 15 days sliding: older snapshots forgotten and pruned after each backup on the platform's clock; weekly `restic check --read-data-subset`; size, duration, freeze time, consistency and result recorded per backup",
    missing:
      'the panels (client backups list, console per host and target), `npm run bench:backup`, kill -9 of the platform during a backup tested end to end, dirty bitmaps (docs/backups.md says why not)',
  },
  {
    id: 'R3.7',
    title: 'restores, 2 requests a month',
    status: 'partly',
    sources: [
      'src/control/services/backup-restores.ts',
      'src/control/services/backups.ts',
      'src/domain/backups.ts',
      'src/agent/qemu/backup.ts',
      'src/control/routes/backups.ts',
    ],
    note: "`POST /v1/vps/:id/restores` (client: own VPS, own backups; 404 otherwise): 2 client requests per calendar month in Europe/Paris counted under a per-VPS lock in the transaction that records them, the third refused (409 `restore.monthly_limit`) with the date it becomes possible; staff's not counted; one restore in flight per VPS; the `vps.restore` job stops the VM, writes the snapshot beside the old disk, checks its size and the backup's sha256, swaps it in, boots and waits for the guest agent; a failure keeps the old disk, restarts the VM and alerts staff; the client told before and after (`vps.restore_started`, `vps.restore_done` or `vps.restore_failed`, FR/EN; `src/control/services/backup-restores.ts`)",
    missing: 'the panels, restoring one directory',
  },
  {
    id: 'R3.8',
    title: 'supervision of CPU, interfaces, filesystems, memory; tickets',
    status: 'not yet',
    sources: [],
    note: '',
    missing: 'the supervision module (and tickets)',
  },
  {
    id: 'R3.9',
    title: 'provider administers hardware, network, hosts',
    status: 'not yet',
    sources: [],
    note: '',
    missing: 'the supervision module (hosts, network, hardware)',
  },
  {
    id: 'R3.10',
    title: '20 minutes of admin support, tracked, balance shown',
    status: 'built',
    sources: [
      'src/domain/terms.ts',
      'src/domain/tickets.ts',
      'src/control/services/support-ledger.ts',
      'src/control/repositories/support-ledger.ts',
      'src/control/routes/tickets.ts',
      'web/src/pages/client/Tickets.tsx',
      'web/src/pages/console/Tickets.tsx',
    ],
    note: 'minutes mandatory on every staff reply or action on an admin request (1 to 480, editable by its author the same day, audited); the terms’ 20 minutes per billing month of the contract (its billing anchor, 28–31 days); balance shown to both sides (API, mails, the client’s form and ticket, the console’s reply box); beyond it a quote the client accepts, then an invoice; incident reports and provider-caused tickets never consume',
  },
  {
    id: 'R3.11',
    title: 'sensitive ports filtered; UDP/ICMP rate-limited',
    status: 'built',
    sources: [
      'src/domain/net-policy.ts',
      'src/agent/net/nft-render.ts',
      'src/control/services/net-policy.ts',
      'src/control/services/network-blocks.ts',
    ],
    note: "rules: `src/domain/net-policy.ts` (`DEFAULT_FILTERED_PORTS`, `DEFAULT_RATE_LIMITS`), `src/agent/net/nft-render.ts`; every VPS's policy from the database `src/control/services/net-policy.ts`, applied at provisioning and on each network block, repaired by the `net.reconcile` job every 5 min (`src/control/services/network-blocks.ts`, fixes audited)",
  },
  {
    id: 'R3.12',
    title: 'plan change applied within 48 h of payment',
    status: 'built',
    sources: [
      'src/control/services/plan-changes.ts',
      'src/control/routes/plan-changes.ts',
      'src/domain/plan-changes.ts',
      'src/control/jobs/plan-changes.ts',
      'web/src/pages/console/PlanChanges.tsx',
      'web/src/pages/client/PlanChange.tsx',
    ],
    note: "order `POST /v1/vps/:id/plan-change` (plan sold in the VPS's datacenter; disk only grows: 409 `plan_change.disk_shrink`; suspended/paused VPS, change pending, VPS not running/stopped: 409, nothing changed), options with the quote `GET /v1/vps/:id/plan-change/options` (`src/control/services/plan-changes.ts`, `src/control/routes/plan-changes.ts`); invoice of the difference, gap-free, prorated to the day by `prorate` in `src/domain/plan-changes.ts`: (new − old monthly price) × remaining days of the current billing cycle (day in progress counted) / days in that cycle, rounded half up to the cent, + the difference × whole months already paid after the cycle (fixed term paid ahead); a cheaper plan (same or bigger disk) costs 0 and refunds nothing, no invoice, its deadline runs from the order, its price applies from the next renewal; payment (staff or webhook) → commerce `onInvoicePaid` listener → deadline = payment + `planChangeDeadlineMs` of the contract's terms version, a `plan_change.due` deadline row and the `vps.plan_change` job (`src/control/jobs/plan-changes.ts`); the job calls `driver.resize` (CPU/RAM live where the driver can, disk grows live with `resize2fs` through the guest agent or at next boot), updates the VPS row (contract's plan and price: from payment on, R11.2); a field at `next_start` on a running VPS → `vps.plan_change_reboot` email 15 min ahead, then a reboot through `vps.power`; `vps.plan_changed` email; a failure is recorded, retried every 30 min (`plan_change.retry`), staff alerted; past the deadline unapplied: `late_at`, `plan_change_late` alert, listed highlighted in the console (`GET /v1/admin/plan-changes`, `web/src/pages/console/PlanChanges.tsx`, retry); both sides see the countdown (`GET /v1/vps/:id/plan-changes`, `web/src/pages/client/PlanChange.tsx`)",
  },
  {
    id: 'R3.13',
    title: '100 Mbit/s; 10 TB/month counted at the switch port; then 1 Mbit/s',
    status: 'built',
    sources: [
      'src/domain/terms.ts',
      'src/agent/net/tc-render.ts',
      'src/domain/traffic.ts',
      'src/domain/quota.ts',
      'src/control/services/traffic.ts',
      'src/control/repositories/traffic.ts',
      'src/control/jobs/traffic.ts',
      'web/src/components/TrafficCard.tsx',
    ],
    note: "numbers: `src/domain/terms.ts`; shaping `src/agent/net/tc-render.ts`; deltas and cycles `src/domain/traffic.ts`, `src/domain/quota.ts`; collector every `INFOGERE_TRAFFIC_INTERVAL_SECONDS` storing one transaction per host `src/control/services/traffic.ts`, `src/control/repositories/traffic.ts`, `src/control/jobs/traffic.ts`; quota from the contract's terms → `throttle` network block (one per cycle), `traffic.throttled` email, `traffic.cycle_end` deadline lifting it; balance for both sides `GET /v1/vps/:id/traffic`, `web/src/components/TrafficCard.tsx`",
  },
  {
    id: 'R3.14',
    title: 'provider may restrict features; tells the client',
    status: 'built',
    sources: [
      'src/domain/sanctions.ts',
      'src/control/services/sanctions.ts',
      'web/src/components/SanctionsList.tsx',
      'src/control/services/network-blocks.ts',
      'src/control/routes/sanctions.ts',
    ],
    note: "the ladder's restriction and limitation rungs (`src/domain/sanctions.ts`, `src/control/services/sanctions.ts`, `POST /v1/admin/sanctions`): ports/protocols blocked through `services.networkBlocks` (`block`), bandwidth capped through a staff `throttle` network block (the after-quota rate); the client is emailed (`sanction.applied`, nature and duration) unless the notice is withheld, and sees the sanctions in force with reason and end on its VPS page (`GET /v1/vps/:id/sanctions`, `web/src/components/SanctionsList.tsx`)",
  },
  {
    id: 'R4.1',
    title: 'hosts kept running; host failure = incident; clients told',
    status: 'not yet',
    sources: ['src/control/services/alerts.ts'],
    note: 'staff alerts (`src/control/services/alerts.ts`): a crashed VM raises one; no host failure is detected yet',
    missing: 'host incidents and the clients told (the alerts module only raises staff alerts today)',
  },
  {
    id: 'R4.2',
    title: 'planned interventions announced',
    status: 'not yet',
    sources: [],
    note: '',
    missing: 'planned interventions and their notices',
  },
  {
    id: 'R4.3',
    title: 'client reports incidents (tickets)',
    status: 'partly',
    sources: [
      'src/domain/tickets.ts',
      'src/control/services/tickets.ts',
      'src/control/services/ticket-views.ts',
      'src/control/services/ticket-mail.ts',
      'src/control/repositories/tickets.ts',
      'src/control/routes/tickets.ts',
      'src/control/services/ticket-inbound.ts',
      'src/control/support-smtp.ts',
      'web/src/pages/client/Tickets.tsx',
      'web/src/pages/console/Tickets.tsx',
    ],
    note: 'tickets by the panel and API (incident report, admin request, billing, abuse), a state machine, internal notes, attachments typed by content, the staff queue with filters and full-text search, timers, auto-close; every message mailed through the outbox, threaded, with a signed reply address; replies by email through the inbound SMTP listener (signed address, known senders only, quoted history stripped, auto-replies ignored, strangers politely refused)',
    missing:
      'the panels; a new ticket by mail to the bare support address (refused today: clients open them in the panel or API)',
  },
  {
    id: 'R5.1',
    title: 'cut off a dangerous VPS; nature and duration told; may refuse restore',
    status: 'built',
    sources: [
      'src/control/services/network-blocks.ts',
      'src/control/services/sanctions.ts',
      'src/domain/sanctions.ts',
      'src/control/services/client-views.ts',
    ],
    note: "the cut-off state: `isolate` network blocks (`src/control/services/network-blocks.ts`); the sanctions module's suspension (VM paused + isolated) and isolation rungs (`src/control/services/sanctions.ts`), the client emailed the nature, reason and expected duration or lift condition (`sanction.applied`; `sanction.lifted` when restored), the planned end a deadline (`sanction.planned_end`); restoring may be refused from the 3rd serious-or-critical case in 12 months (`suggestSanction` in `src/domain/sanctions.ts`): the lift is 409 `sanction.restore_refused` unless an admin overrides with a reason (audited), and its planned end raises a staff alert instead of lifting it; the network rules a sanction applied belong to it (`network_blocks.owner_*`): the network-block lift refuses them to everyone (409 `network_block.owned`, naming the sanction), so a refused restore cannot be bypassed; a VPS-level suspension is a hold recorded apart from the power state (`vps_holds`, `services.vps.hold`): a VPS suspended while stopped is not started or rebooted by its client or staff (409 `vps.suspended`), a start in flight ends paused, only the lift releases it; clients read what happened to their VPS with the provider as a role and problem codes, never staff emails or raw errors (`src/control/services/client-views.ts`)",
  },
  {
    id: 'R6.1',
    title: 'identity data; proof within 72 h else suspension',
    status: 'built',
    sources: [
      'src/domain/identity.ts',
      'src/control/services/client-signup.ts',
      'src/control/services/identity-proofs.ts',
      'src/control/services/suspensions.ts',
      'src/control/services/clients.ts',
      'src/control/jobs/registry.ts',
      'src/control/routes/clients.ts',
      'web/src/pages/client/Identity.tsx',
      'web/src/pages/console/Clients.tsx',
    ],
    note: "identity rules (E.164 phone via libphonenumber-js, ISO 3166-1 country, postal code; deadline = request + `identityProofDeadlineMs`, terms version stored; request phases; document type by magic bytes) `src/domain/identity.ts`; sign-up, requests, documents, `identity.proof_due` deadline → `account_suspensions` (cause `identity_proof_overdue`), lifted on approval, every step emailed (templates `clients.signup_verify`, `identity.*`) `src/control/services/client-signup.ts`, `src/control/services/identity-proofs.ts`, `src/control/services/suspensions.ts`, `src/control/services/clients.ts`; handler registered in `src/control/jobs/registry.ts`; routes `src/control/routes/clients.ts`; panel `web/src/pages/client/Identity.tsx`, `web/src/pages/console/Clients.tsx`, `IdentityChecks.tsx`; at most 10 documents per request, counted under the request's lock (413 `identity.too_many_documents`)",
  },
  {
    id: 'R6.2',
    title: 'connection logs kept 12 months',
    status: 'partly',
    sources: [
      'src/control/syslog-receiver.ts',
      'src/control/services/log-store.ts',
      'src/control/storage/log-segments.ts',
      'src/domain/syslog.ts',
      'src/control/routes/log-store.ts',
    ],
    note: 'the optional log store: a syslog receiver (`src/control/syslog-receiver.ts`; RFC 5424 over TLS with RFC 5425 octet counting, plain TCP and UDP optional per setting: `INFOGERE_SYSLOG_TLS_PORT`, `INFOGERE_SYSLOG_TCP_PORT`, `INFOGERE_SYSLOG_UDP_PORT`) takes a VPS by its source IPv4 (sound because of R6.3 anti-spoofing) when its client enabled the store (off by default, `PUT /v1/vps/:id/log-store`); unknown senders refused and counted, malformed frames counted; lines buffered per VPS and appended as zstd frames to one file per VPS and UTC day (`src/control/storage/log-segments.ts`, append-only), counters in `log_segments`; a day over is sealed (file sha256 chained to the VPS previous segment); kept 12 months after the day ends and deleted whole the day after by the retention purge (the row keeps its hashes); quota per VPS (`INFOGERE_LOG_STORE_QUOTA_MIB`: 80 % warned and audited, 100 % new lines dropped and counted); the client reads volume per day and downloads any day range within the 12 months, streamed (`GET /v1/vps/:id/log-store/download`)',
    missing:
      'the reminder at sign-up, on the VPS page and yearly by email; the panel page; the guest images sending their logs; a real VM test through a real syslog daemon',
  },
  {
    id: 'R6.3',
    title: 'forbidden uses; spoofed traffic never leaves a VPS',
    status: 'built',
    sources: ['src/agent/net/nft-render.ts', 'src/domain/sanctions.ts'],
    note: "anti-spoofing rules `src/agent/net/nft-render.ts` (MAC, ARP, IPv4 source, DHCP server, RA), in every VPS's policy, repaired by the reconcile job; the other forbidden uses are breach kinds of the sanctions ladder (`BREACH_KINDS` in `src/domain/sanctions.ts`: spam, intrusion, spoofing, proxy, card sharing; peer-to-peer and IRC limited), applied by staff: nothing detects them automatically (spam: R7)",
  },
  {
    id: 'R6.4',
    title: 'security problem: reinstall needed, may be cut off',
    status: 'built',
    sources: [
      'src/domain/sanctions.ts',
      'src/control/services/sanctions.ts',
      'src/control/services/network-blocks.ts',
      'src/control/mail/templates/sanction-applied.ts',
    ],
    note: 'the ladder\'s isolation rung (compromised server, serious security hole): an `isolate` network block until reinstall (lift condition "the VPS is reinstalled"); the email says a reinstall is needed (`sanction.applied`)',
  },
  {
    id: 'R6.5',
    title: 'unpaid or breach: suspension without notice',
    status: 'built',
    sources: [
      'src/domain/sanctions.ts',
      'src/control/services/sanctions.ts',
      'src/control/services/suspensions.ts',
    ],
    note: 'breach kind `unpaid` → suspension (VM paused + isolated; for a whole account `services.clients.suspend` with cause `sanction`); staff may withhold the email (`withheld: true`)',
  },
  {
    id: 'R7.1',
    title: 'port 25 checked in parallel, mail never touched',
    status: 'partly',
    sources: [
      'src/agent/net/nft-port25.ts',
      'src/domain/spam.ts',
      'src/control/services/spam.ts',
      'src/control/services/spam-signals.ts',
      'src/control/jobs/spam.ts',
    ],
    note: "flow statistics in the VPS's own nft chain (a SYN counter to port 25 and a timed set of destinations), counting only, sampled every INFOGERE_SPAM_SAMPLE_SECONDS into in-memory windows",
    missing: 'the content signal (mirrored copy, rspamd)',
  },
  {
    id: 'R7.2',
    title: 'spam: client told, port 25 blocked',
    status: 'built',
    sources: [
      'src/domain/spam.ts',
      'src/control/services/spam.ts',
      'src/control/mail/templates/spam-blocked.ts',
    ],
    note: 'rules as data (defaults with reasons, `PUT /v1/admin/spam/rules`); a rule crossed → identification row with its statistics, a port-25 network block owned by the spam block, the client emailed with the statistics, in one transaction',
  },
  {
    id: 'R7.3',
    title: 'unblock requested from the panel',
    status: 'partly',
    sources: ['src/control/services/spam.ts', 'src/control/routes/spam.ts'],
    note: '`POST /v1/vps/:id/spam/blocks/:blockId/unblock` after the minimum duration, confirming the cause is fixed; the block row locked (two at once: one wins)',
    missing: 'the panel page',
  },
  {
    id: 'R7.4',
    title: 'each new identification blocks longer',
    status: 'built',
    sources: ['src/domain/spam.ts', 'src/domain/terms.ts', 'src/control/services/spam.ts'],
    note: 'ladder as data in the terms (1 h, 24 h, 7 days, then doubling) over 12 rolling months; the windows restart at a lift, so only a new identification starts the next rung',
  },
  {
    id: 'R7.5',
    title: 'from the 3rd block, unblock may be refused',
    status: 'built',
    sources: ['src/domain/terms.ts', 'src/domain/spam.ts', 'src/control/services/spam.ts'],
    note: 'from `smtpUnblockRefusableFromBlock` (3) the request waits in the unblock queue; staff lift or refuse with a reason, emailed',
  },
  {
    id: 'R7.6',
    title: 'no copy of any mail kept',
    status: 'not yet',
    sources: [],
    note: '',
    missing: 'the anti-spam module',
  },
  {
    id: 'R9.1',
    title: 'inbound traffic checked; attacks dropped, legitimate passes',
    status: 'partly',
    sources: [
      'src/domain/ddos.ts',
      'src/agent/net/ddos-render.ts',
      'src/agent/net/ddos.ts',
      'src/control/services/ddos.ts',
    ],
    note: 'per-address counters before any drop (table bridge infogere_ddos), 3 s average against per-kind thresholds, tier-1 chain per mitigated VPS; namespace test with hping3, iperf3 and sshd',
    missing: 'the panel pages and the start/end emails',
  },
  {
    id: 'R9.2',
    title: 'application attacks not covered',
    status: 'not yet',
    sources: [],
    note: '',
    missing: 'the DDoS module (what it does not cover, told to clients)',
  },
  {
    id: 'R9.3',
    title: 'mitigation at least 26 h',
    status: 'built',
    sources: ['src/domain/ddos.ts', 'src/control/services/ddos.ts', 'src/control/repositories/ddos.ts'],
    note: 'stored end date max(start + 26 h, last attack second + 30 min), moved by each attack second',
  },
  {
    id: 'R9.4',
    title: 'automatic mitigation cannot be lifted before 26 h',
    status: 'built',
    sources: ['src/domain/ddos.ts', 'src/control/services/ddos.ts', 'src/control/routes/ddos.ts'],
    note: '409 ddos.mitigation_minimum with the end date for every role; ended in one statement only past the date; restarts re-apply it',
  },
  {
    id: 'R9.5',
    title: 'reachability not guaranteed during mitigation, impact kept low',
    status: 'partly',
    sources: ['src/agent/net/ddos-render.ts'],
    note: 'established TCP passes; SYNs and UDP/ICMP limited per source (no SYN proxy on a bridge without conntrack, docs/ddos.md)',
    missing: 'tier 2 (BGP)',
  },
  {
    id: 'R9.6',
    title: 'threat to infrastructure raises protection',
    status: 'not yet',
    sources: [],
    note: '',
    missing: 'the DDoS module',
  },
  {
    id: 'R10',
    title: '99.50 % availability measured per VPS per month',
    status: 'not yet',
    sources: ['src/domain/terms.ts'],
    note: 'terms only: the target and the allowed downtime (`allowedDowntimeMs`) in `src/domain/terms.ts`',
    missing: "measuring each VPS's availability, the monthly report per VPS and the breaches shown",
  },
  {
    id: 'R11.1',
    title: 'fixed term shown on the invoice',
    status: 'built',
    sources: [
      'src/domain/orders.ts',
      'src/domain/invoices.ts',
      'src/domain/contracts.ts',
      'src/control/services/renewals.ts',
    ],
    note: '`src/domain/orders.ts` (term 1–36 months, first invoice bills the term), `src/domain/invoices.ts` (`termText`), `src/domain/contracts.ts` (`openContract`: end = start + N months, clamped at month ends); invoice columns `term_kind`/`term_months` (immutable, trigger), `/v1/invoices/{id}` and `/print`, `invoice.issued` email; the end of the term (docs/renewals.md): warnings by email at `INFOGERE_TERM_WARNING_DAYS` (14 and 3 days, once each: `contract_term_warnings`, mail `contract.term_ending`), then `services.terminations.terminate` cause `term_end` at the expiry (`src/control/services/renewals.ts`, deadlines `contract.term_warning`, `contract.expiry`); client page `/client/contracts/<id>`, console Renewals due',
  },
  {
    id: 'R11.2',
    title: 'monthly subscription, tacit renewal',
    status: 'built',
    sources: [
      'src/domain/terms.ts',
      'src/domain/contracts.ts',
      'src/control/services/renewals.ts',
      'src/control/routes/renewals.ts',
    ],
    note: "terms `src/domain/terms.ts`; order kind `subscription` billed one period, contract `expires_at` = next renewal counted from `renewal_anchor` (`src/domain/contracts.ts`: `openContract`, `renew`, `nextRenewalAt`, `stopRenewal`, `resumeRenewal`); renewal by itself (docs/renewals.md, `src/control/services/renewals.ts`): the next month's invoice issued `INFOGERE_RENEWAL_INVOICE_DAYS_AHEAD` days ahead (gap-free number, `renewal_invoices`, mail `contract.renewal_invoice`), paid → expiry one month further in the paying transaction; unpaid at the expiry → `INFOGERE_RENEWAL_GRACE_DAYS` of grace told by mail (`contract.renewal_unpaid`), then invoice voided and terminated (cause `term_end`); `POST /v1/contracts/:id/stop-renewal` and `/resume-renewal` (client); a plan change paid (R3.12) → the contract's plan and price change at once and an unpaid renewal invoice is voided and issued again at the new price (mail `invoice.reissued`); a renewal paid at the old price while a change's invoice waits → that invoice issued again with the renewed month's difference; no plan change past the expiry (409 `plan_change.renewal_unpaid`); concurrent payments: one wins, the other 409 (docs/renewals.md)",
  },
  {
    id: 'R11.3',
    title: 'switch to subscription; renewal from current expiry',
    status: 'built',
    sources: ['src/domain/contracts.ts', 'src/domain/renewals.ts', 'src/control/routes/renewals.ts'],
    note: "`src/domain/contracts.ts` (`switchToSubscription`: the expiry becomes the renewal anchor), `src/domain/renewals.ts` (`checkSwitch`: before the expiry, 409 `contract.already_subscription`); `POST /v1/contracts/:id/switch-to-subscription` (client: own contract; staff: any), the client's contract page with a confirmation",
  },
  {
    id: 'R12.1',
    title: 'termination for force majeure',
    status: 'built',
    sources: [
      'src/control/services/terminations.ts',
      'web/src/pages/console/Terminations.tsx',
      'src/domain/terminations.ts',
      'src/control/routes/terminations.ts',
    ],
    note: 'either side: `POST /v1/contracts/:id/terminations/force-majeure` (`side` client or provider, effective date not in the past: 409 `termination.date_past`) → `services.terminations.terminate` (`src/control/services/terminations.ts`): one per contract (409 `termination.exists`), `contract.termination_due` deadline at the effective date, audit, `contract.termination_scheduled` email; cancel before the date `POST /v1/terminations/:id/cancel` (audited, the client told by `contract.termination_cancelled`); staff list `GET /v1/terminations`, console `web/src/pages/console/Terminations.tsx`; the client sees it `GET /v1/contracts/:id/termination`, `GET /v1/vps/:id/termination` and on its VPS page',
  },
  {
    id: 'R12.2',
    title: 'termination by registered letter',
    status: 'built',
    sources: [
      'src/domain/terminations.ts',
      'src/control/routes/terminations.ts',
      'src/control/services/terminations.ts',
    ],
    note: "staff record the letter's receipt and the date it asks for: `POST /v1/contracts/:id/terminations/letter`; the product proposes the effective date (`GET …/terminations/letter-proposal`, rule `proposeLetterEffectiveDate` in `src/domain/terminations.ts`, below); staff may give another date (not in the past); receipt, requested and proposed dates stored on the termination; the email names the letter's receipt date",
  },
  {
    id: 'R12.3',
    title: 'breach of art. 6: cut at once and terminate',
    status: 'built',
    sources: [
      'src/control/routes/terminations.ts',
      'src/control/services/terminations.ts',
      'src/control/services/sanctions.ts',
      'src/control/services/vps.ts',
    ],
    note: "`POST /v1/contracts/:id/terminations/breach`: terminated with effect now, the VM paused at once (`services.vps.suspend`) and an `isolate` network block (`services.networkBlocks.add`), then deleted by the job at the next scheduler tick (R12.4); the sanctions ladder's termination rung calls the same `terminations.terminate` with cause `provider_breach`; recording a termination (letter, force majeure, breach) or cancelling one, and the ladder's termination rung, are an admin's (docs/security.md); the breach's cut holds the VPS (`vps_holds`, owner the termination) so a VPS cut while stopped is not started again",
  },
  {
    id: 'R12.4',
    title: 'end of contract deletes VPS, disks, backups, credentials; IP quarantined',
    status: 'built',
    sources: [
      'src/control/services/termination-workflow.ts',
      'src/agent/qemu/lifecycle.ts',
      'src/agent/disks/disks.ts',
      'src/control/services/infra.ts',
      'src/domain/retention.ts',
      'src/control/services/retention.ts',
      'src/control/services/backups.ts',
    ],
    note: 'at the effective date the deadline queues the `contract.terminate` job (`src/control/jobs/terminations.ts`, the workflow `src/control/services/termination-workflow.ts`; idempotent, resumable: the last step done is stored on the termination): `vm` (`driver.destroy`: VM stopped, disk wiped then removed, config drive and state dir removed), `network` (`services.traffic.removeVpsNetwork`: last bytes counted, tap and rules removed), `backups` (every hook registered with `registerTerminationHook(name, fn)`: the backups module deletes every object of the restic repository of the VPS through the full-access endpoint of the target, then its sealed key; the record says so — `src/control/services/backups.ts`), `credentials` (root and initial passwords sealed in the row erased, access links deleted), `address` (`services.infra.releaseAddress`: IPv4 quarantined `INFOGERE_IP_QUARANTINE_DAYS`), `finish` (one transaction: VPS `destroyed`, contract `terminated` — `ended` for a term end —, record completed, final `contract.terminated` email); the record of what was deleted and when: table `deletion_records` (contract, VPS, hostname, cause, items with times; no other personal data; its last item `retained` lists what the law keeps and until when), staff `GET /v1/deletion-records`; a step failing 3 times alerts staff, the job keeps retrying. What the law makes the provider keep: the retention schedule as data (`src/domain/retention.ts`, décret 2021-1362: civil identity 5 years after the contract ends, other account data 1 year after, connection records — panel logins and each TCP connection a session or API token is used on, address and source port — and the IPv4→VPS→client history 1 year; invoices 10 years and the audit/notices chains 5 years are listed as kept, not purged yet); the daily `retention.purge` job (`src/control/services/retention.ts`: deletes only what reached its end, idempotent, counts logged and audited); staff `GET /v1/admin/retention/schedule` and `GET /v1/admin/accounts/:id/retention`',
  },
  {
    id: 'R12.5',
    title: 'measures graded by severity and recurrence',
    status: 'built',
    sources: [
      'src/domain/sanctions.ts',
      'src/control/services/sanctions.ts',
      'web/src/pages/console/Sanctions.tsx',
    ],
    note: '`suggestSanction` (`src/domain/sanctions.ts`): base rung by breach kind × severity, one rung up per earlier case of the same kind in 12 months (isolation only for security kinds; termination never for a minor case); staff apply it or another rung with a reason (both recorded); every sanction records who, why, when, evidence (text + optional file), planned end or lift condition, and what it applied, so the lift (explicit, audited, 409 `sanction.not_in_force` when not in force) undoes exactly that; console Sanctions page shows the suggestion',
  },
  {
    id: 'R12.6',
    title: 'authority notices recorded and applied',
    status: 'built',
    sources: [
      'src/control/services/authority-notices.ts',
      'src/control/routes/sanctions.ts',
      'src/control/storage/uploads.ts',
      'web/src/pages/console/AuthorityNotices.tsx',
    ],
    note: "`src/control/services/authority-notices.ts`, `POST /v1/admin/authority-notices`: authority, type (administrative/arbitral/judicial), reference, date received, sanction ordered (restriction/limitation/suspension), scan uploaded with type by magic bytes under `<dataDir>/uploads/authority-notices/`; the ordered sanction applied at once and linked (`sanctions.notice_id`); withheld → no email, nothing in the notices chain; console Authority notices pages; recording a notice and its scan are an admin's (docs/security.md); the ordered sanction's network blocks are lifted only through its sanction (409 `network_block.owned` names the notice); 5 scans per notice (413 `upload.too_many`)",
  },
];

export const foundations: Foundation[] = [
  {
    rule: 'deadlines stored, scheduled, acted on when due, surviving restarts',
    sources: ['src/control/jobs/scheduler.ts'],
    note: 'table `deadlines`',
    tests: ['test/api/scheduler.test.ts'],
  },
  {
    rule: 'jobs resume after a crash',
    sources: ['src/control/jobs/boss.ts'],
    note: 'pg-boss heartbeats, retries',
    tests: ['test/api/platform-restart.test.ts'],
  },
  {
    rule: 'tamper-evident record of actions',
    sources: ['src/control/repositories/audit.ts'],
    note: 'append-only, hash chain',
    tests: ['test/api/audit.test.ts'],
  },
  {
    rule: '"the client is told": an email in French (default) or English, and a tamper-evident record of what was sent, when and why',
    sources: [
      'src/control/services/mail.ts',
      'src/control/mail/render.ts',
      'src/control/repositories/notices.ts',
    ],
    note: "`src/control/mail/` (templates as data, outbox written in the caller's transaction, nodemailer with backoff, at-least-once with a stable Message-ID), `src/control/repositories/notices.ts` (append-only, hash chain, content hash); staff `/v1/admin/notices` (+ `export.csv`, `verify`), client `/v1/notices`",
    tests: [
      'test/api/mail.test.ts',
      'test/api/mail-smtp.test.ts',
      'test/api/mail-platform.test.ts',
      'test/unit/mail-golden.test.ts',
    ],
  },
  {
    rule: 'every client-reachable query scoped to the account',
    sources: ['src/control/http/access.ts'],
    note: '`src/control/repositories/` (`Scope`)',
    tests: ['test/api/auth.test.ts', 'test/api/tenancy.test.ts'],
  },
  {
    rule: 'access: throttled logins (atomic, no hard lock, owner mailed), single-use TOTP, trusted proxies, expiring API tokens',
    sources: [
      'src/domain/auth.ts',
      'src/control/services/auth.ts',
      'src/control/repositories/login-attempts.ts',
      'src/control/app.ts',
    ],
    note: '`src/domain/auth.ts` (the rule), `src/control/repositories/login-attempts.ts` (advisory locks), `src/control/app.ts` (`INFOGERE_TRUSTED_PROXIES`)',
    tests: ['test/api/auth-hardening.test.ts', 'test/unit/auth-rules.test.ts', 'test/api/auth.test.ts'],
  },
];
