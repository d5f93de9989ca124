// The first-run guide on the console home (docs/first-run.md): while the platform lacks a
// datacenter with a pool, a host, a plan or a VPS, four steps with sensible defaults — each
// explained, skippable, and redoable later from the normal pages (linked from each step).
import { useState, type FormEvent, type ReactNode } from 'react';
import { api, call, type ApiError } from '../../api/client.ts';
import { ErrorNote } from '../../components/ui.tsx';
import { useI18n, type MessageKey } from '../../i18n/index.tsx';
import { Link, navigate } from '../../router.tsx';
import type { DashboardFigures } from './Home.tsx';

const skippedKey = 'infogere.firstRun.skipped';

function readSkipped(): string[] {
  try {
    return JSON.parse(localStorage.getItem(skippedKey) ?? '[]') as string[];
  } catch {
    return [];
  }
}

export function setupComplete(s: DashboardFigures['setup']): boolean {
  return s.datacenters > 0 && s.pools > 0 && s.hosts > 0 && s.plans > 0 && s.vps > 0;
}

function Field({
  label,
  value,
  onChange,
  name,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  name: string;
}) {
  return (
    <label>
      {label}
      <input required name={name} value={value} onChange={(e) => onChange(e.target.value)} />
    </label>
  );
}

type StepId = 'datacenter' | 'host' | 'plan' | 'vps';

function Step({
  id,
  n,
  done,
  skipped,
  later,
  onSkip,
  children,
}: {
  id: StepId;
  n: number;
  done: boolean;
  skipped: boolean;
  later: string;
  onSkip: () => void;
  children: ReactNode;
}) {
  const { t } = useI18n();
  const state = done ? 'done' : skipped ? 'skipped' : 'todo';
  return (
    <li className={`setup-step setup-${state}`} data-testid={`setup-${id}`} data-state={state}>
      <h3>
        {n}. {t(`firstRun.${id}.title` as MessageKey)}{' '}
        <span className="muted">· {t(`firstRun.state.${state}` as MessageKey)}</span>
      </h3>
      <p>{t(`firstRun.${id}.why` as MessageKey)}</p>
      {state === 'todo' ? (
        <>
          {children}
          <button type="button" className="button-quiet" onClick={onSkip}>
            {t('firstRun.skip')}
          </button>
        </>
      ) : null}
      <p className="muted">
        {t('firstRun.later')} <Link to={later}>{later}</Link>
      </p>
    </li>
  );
}

export function FirstRunGuide({ figures, onChange }: { figures: DashboardFigures; onChange: () => void }) {
  const { t } = useI18n();
  const [skipped, setSkipped] = useState<string[]>(readSkipped);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [dc, setDc] = useState({
    code: 'PAR1',
    name: 'Paris 1',
    city: 'Paris',
    country: 'FR',
    region: 'FR-IDF',
    cidr: '192.0.2.0/24',
    gateway: '192.0.2.1',
  });
  const [host, setHost] = useState({ name: 'local', lab: true });
  const [plan, setPlan] = useState({
    code: 'XS1',
    name: 'VPS XS',
    vcpus: '1',
    memoryMiB: '256',
    diskGiB: '1',
    price: '4.99',
    vat: '20',
  });
  const [hostname, setHostname] = useState('essai1');
  const s = figures.setup;

  const skip = (id: StepId) => {
    const next = [...new Set([...skipped, id])];
    setSkipped(next);
    try {
      localStorage.setItem(skippedKey, JSON.stringify(next));
    } catch {
      // Storage unavailable: the step stays skipped for this page only.
    }
  };
  const run = async (e: FormEvent, f: () => Promise<ApiError | null>) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const err = await f();
    setBusy(false);
    if (err) setError(err);
    else onChange();
  };
  const firstDc = async (): Promise<string | null> => {
    const r = await call(api.GET('/v1/datacenters'));
    return r.ok ? (r.data[0]?.id ?? null) : null;
  };

  const addDatacenter = (e: FormEvent) =>
    run(e, async () => {
      let id = await firstDc();
      if (!id) {
        const r = await call(
          api.POST('/v1/admin/datacenters', {
            body: { code: dc.code, name: dc.name, city: dc.city, country: dc.country, region: dc.region },
          }),
        );
        if (!r.ok) return r.error;
        id = r.data.id;
      }
      const p = await call(
        api.POST('/v1/admin/pools', { body: { datacenterId: id, cidr: dc.cidr, gateway: dc.gateway } }),
      );
      return p.ok ? null : p.error;
    });
  const enrol = (e: FormEvent) =>
    run(e, async () => {
      const id = await firstDc();
      if (!id)
        return {
          code: 'firstRun.no_datacenter',
          message: t('firstRun.needDatacenter'),
          status: 409,
        } as ApiError;
      const r = await call(
        api.POST('/v1/admin/first-run/host', { body: { datacenterId: id, name: host.name, lab: host.lab } }),
      );
      return r.ok ? null : r.error;
    });
  const addPlan = (e: FormEvent) =>
    run(e, async () => {
      const id = await firstDc();
      if (!id)
        return {
          code: 'firstRun.no_datacenter',
          message: t('firstRun.needDatacenter'),
          status: 409,
        } as ApiError;
      const r = await call(
        api.POST('/v1/admin/plans', {
          body: {
            code: plan.code,
            name: plan.name,
            vcpus: Number(plan.vcpus),
            memoryMiB: Number(plan.memoryMiB),
            diskGiB: Number(plan.diskGiB),
            monthlyPriceCents: Math.round(Number(plan.price.replace(',', '.')) * 100),
            vatRateBp: Math.round(Number(plan.vat.replace(',', '.')) * 100),
            datacenterIds: [id],
          },
        }),
      );
      return r.ok ? null : r.error;
    });
  const order = (e: FormEvent) =>
    run(e, async () => {
      const id = await firstDc();
      const plans = await call(api.GET('/v1/admin/plans'));
      const planId = plans.ok ? plans.data.find((p) => p.active)?.id : undefined;
      if (!id || !planId)
        return { code: 'firstRun.no_plan', message: t('firstRun.needPlan'), status: 409 } as ApiError;
      const r = await call(
        api.POST('/v1/admin/first-run/test-order', { body: { planId, datacenterId: id, hostname } }),
      );
      if (!r.ok) return r.error;
      navigate(`/console/vps/${r.data.vpsId}`);
      return null;
    });

  return (
    <section className="card setup" aria-labelledby="setup-title" data-testid="first-run">
      <h2 id="setup-title">{t('firstRun.title')}</h2>
      <p>{t('firstRun.intro')}</p>
      <ErrorNote error={error} />
      <ol className="setup-steps">
        <Step
          id="datacenter"
          n={1}
          done={s.datacenters > 0 && s.pools > 0}
          skipped={skipped.includes('datacenter')}
          later="/console/pools"
          onSkip={() => skip('datacenter')}
        >
          <form className="inline-form" onSubmit={(e) => void addDatacenter(e)}>
            <Field
              name="dc-code"
              label={t('firstRun.dcCode')}
              value={dc.code}
              onChange={(v) => setDc({ ...dc, code: v })}
            />
            <Field
              name="dc-name"
              label={t('firstRun.dcName')}
              value={dc.name}
              onChange={(v) => setDc({ ...dc, name: v })}
            />
            <Field
              name="dc-city"
              label={t('firstRun.dcCity')}
              value={dc.city}
              onChange={(v) => setDc({ ...dc, city: v })}
            />
            <Field
              name="dc-country"
              label={t('firstRun.dcCountry')}
              value={dc.country}
              onChange={(v) => setDc({ ...dc, country: v })}
            />
            <Field
              name="dc-region"
              label={t('firstRun.dcRegion')}
              value={dc.region}
              onChange={(v) => setDc({ ...dc, region: v })}
            />
            <Field
              name="pool-cidr"
              label={t('firstRun.poolCidr')}
              value={dc.cidr}
              onChange={(v) => setDc({ ...dc, cidr: v })}
            />
            <Field
              name="pool-gateway"
              label={t('firstRun.poolGateway')}
              value={dc.gateway}
              onChange={(v) => setDc({ ...dc, gateway: v })}
            />
            <button type="submit" disabled={busy}>
              {t('firstRun.datacenter.do')}
            </button>
          </form>
          <p className="muted">{t('firstRun.poolHint')}</p>
        </Step>
        <Step
          id="host"
          n={2}
          done={s.hosts > 0}
          skipped={skipped.includes('host')}
          later="/console/hosts"
          onSkip={() => skip('host')}
        >
          <form className="inline-form" onSubmit={(e) => void enrol(e)}>
            <Field
              name="host-name"
              label={t('firstRun.hostName')}
              value={host.name}
              onChange={(v) => setHost({ ...host, name: v })}
            />
            <label>
              <input
                type="checkbox"
                name="host-lab"
                checked={host.lab}
                onChange={(e) => setHost({ ...host, lab: e.target.checked })}
              />{' '}
              {t('firstRun.hostLab')}
            </label>
            <button type="submit" disabled={busy}>
              {t('firstRun.host.do')}
            </button>
          </form>
          <p className="muted">{t('firstRun.hostLabHint')}</p>
        </Step>
        <Step
          id="plan"
          n={3}
          done={s.plans > 0}
          skipped={skipped.includes('plan')}
          later="/console/plans"
          onSkip={() => skip('plan')}
        >
          <form className="inline-form" onSubmit={(e) => void addPlan(e)}>
            <Field
              name="plan-code"
              label={t('firstRun.planCode')}
              value={plan.code}
              onChange={(v) => setPlan({ ...plan, code: v })}
            />
            <Field
              name="plan-name"
              label={t('firstRun.planName')}
              value={plan.name}
              onChange={(v) => setPlan({ ...plan, name: v })}
            />
            <Field
              name="plan-vcpus"
              label="vCPU"
              value={plan.vcpus}
              onChange={(v) => setPlan({ ...plan, vcpus: v })}
            />
            <Field
              name="plan-memory"
              label={t('firstRun.planMemory')}
              value={plan.memoryMiB}
              onChange={(v) => setPlan({ ...plan, memoryMiB: v })}
            />
            <Field
              name="plan-disk"
              label={t('firstRun.planDisk')}
              value={plan.diskGiB}
              onChange={(v) => setPlan({ ...plan, diskGiB: v })}
            />
            <Field
              name="plan-price"
              label={t('firstRun.planPrice')}
              value={plan.price}
              onChange={(v) => setPlan({ ...plan, price: v })}
            />
            <Field
              name="plan-vat"
              label={t('firstRun.planVat')}
              value={plan.vat}
              onChange={(v) => setPlan({ ...plan, vat: v })}
            />
            <button type="submit" disabled={busy}>
              {t('firstRun.plan.do')}
            </button>
          </form>
        </Step>
        <Step
          id="vps"
          n={4}
          done={s.vps > 0}
          skipped={skipped.includes('vps')}
          later="/console/orders"
          onSkip={() => skip('vps')}
        >
          <form className="inline-form" onSubmit={(e) => void order(e)}>
            <Field
              name="vps-hostname"
              label={t('firstRun.vpsHostname')}
              value={hostname}
              onChange={setHostname}
            />
            <button type="submit" disabled={busy}>
              {t('firstRun.vps.do')}
            </button>
          </form>
          <p className="muted">{t('firstRun.vpsHint')}</p>
        </Step>
      </ol>
    </section>
  );
}
