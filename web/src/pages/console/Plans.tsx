// Plans of the catalogue (admin manages; support reads): price excl. tax in cents, VAT in
// basis points, where each plan is sold.
import { useState, type FormEvent } from 'react';
import { api, call, type ApiError } from '../../api/client.ts';
import { EmptyState, ErrorNote, Loading, Page, useResource } from '../../components/ui.tsx';
import { useI18n } from '../../i18n/index.tsx';
import { useMe } from '../../session.tsx';
import { formatMoney, formatRate } from '../client/InvoicesFormat.tsx';

export function PlansPage() {
  const { t, language } = useI18n();
  const me = useMe();
  const admin = me.role === 'admin';
  const plans = useResource(() => call(api.GET('/v1/admin/plans')));
  const datacenters = useResource(() => call(api.GET('/v1/datacenters')));
  const [error, setError] = useState<ApiError | null>(null);
  const [form, setForm] = useState({
    code: '',
    name: '',
    vcpus: 1,
    memoryMiB: 1024,
    diskGiB: 20,
    price: '5.99',
    vat: '20',
  });
  const [dcs, setDcs] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    // Typed as decimal euros and percent for people; sent as integer cents and basis points.
    const cents = Math.round(Number(form.price.replace(',', '.')) * 100);
    const bp = Math.round(Number(form.vat.replace(',', '.')) * 100);
    setBusy(true);
    const r = await call(
      api.POST('/v1/admin/plans', {
        body: {
          code: form.code.trim(),
          name: form.name.trim(),
          vcpus: form.vcpus,
          memoryMiB: form.memoryMiB,
          diskGiB: form.diskGiB,
          monthlyPriceCents: cents,
          vatRateBp: bp,
          datacenterIds: dcs,
        },
      }),
    );
    setBusy(false);
    if (!r.ok) {
      setError(r.error);
      return;
    }
    setForm({ ...form, code: '', name: '' });
    plans.reload();
  }

  async function toggle(id: string, active: boolean) {
    setError(null);
    const r = await call(api.PATCH('/v1/admin/plans/{id}', { params: { path: { id } }, body: { active } }));
    if (!r.ok) setError(r.error);
    plans.reload();
  }

  const num = (key: 'vcpus' | 'memoryMiB' | 'diskGiB') => ({
    type: 'number',
    min: 1,
    required: true,
    value: form[key],
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [key]: Number(e.target.value) }),
  });

  return (
    <Page title={t('nav.console.plans')}>
      <ErrorNote error={error} />
      {plans.status === 'loading' ? <Loading /> : null}
      {plans.status === 'error' ? <ErrorNote error={plans.error} /> : null}
      {plans.status === 'ready' && plans.data.length === 0 ? (
        <EmptyState text={t('commerce.noPlans')} />
      ) : null}
      {plans.status === 'ready' && plans.data.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="plans">
            <thead>
              <tr>
                <th scope="col">{t('commerce.plan')}</th>
                <th scope="col" className="num">
                  vCPU
                </th>
                <th scope="col" className="num">
                  {t('commerce.ram')}
                </th>
                <th scope="col" className="num">
                  {t('commerce.disk')}
                </th>
                <th scope="col" className="num">
                  {t('commerce.priceMonthly')}
                </th>
                <th scope="col">{t('commerce.datacenters')}</th>
                <th scope="col">{t('commerce.onSale')}</th>
              </tr>
            </thead>
            <tbody>
              {plans.data.map((p) => (
                <tr key={p.id}>
                  <td>
                    <strong>{p.name}</strong> <code>{p.code}</code>
                  </td>
                  <td className="num">{p.vcpus}</td>
                  <td className="num">{p.memoryMiB} MiB</td>
                  <td className="num">{p.diskGiB} GiB</td>
                  <td className="num">
                    {formatMoney(p.monthlyPriceCents, language)} {t('commerce.exclVat')} ·{' '}
                    {formatRate(p.vatRateBp, language)}
                  </td>
                  <td>{p.datacenters.map((d) => d.code).join(', ') || '—'}</td>
                  <td>
                    {admin ? (
                      <button
                        type="button"
                        className="button-quiet"
                        onClick={() => void toggle(p.id, !p.active)}
                      >
                        {p.active ? t('commerce.withdraw') : t('commerce.putOnSale')}
                      </button>
                    ) : p.active ? (
                      t('common.yes')
                    ) : (
                      t('common.no')
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {admin ? (
        <section className="card" aria-labelledby="new-plan">
          <h2 id="new-plan">{t('commerce.newPlan')}</h2>
          <form className="inline-form" onSubmit={(e) => void create(e)}>
            <label>
              {t('commerce.code')}
              <input
                required
                maxLength={32}
                value={form.code}
                onChange={(e) => setForm({ ...form, code: e.target.value })}
              />
            </label>
            <label>
              {t('commerce.name')}
              <input
                required
                maxLength={200}
                value={form.name}
                onChange={(e) => setForm({ ...form, name: e.target.value })}
              />
            </label>
            <label>
              vCPU
              <input {...num('vcpus')} />
            </label>
            <label>
              {t('commerce.ram')} (MiB)
              <input {...num('memoryMiB')} />
            </label>
            <label>
              {t('commerce.disk')} (GiB)
              <input {...num('diskGiB')} />
            </label>
            <label>
              {t('commerce.priceExclVatEuros')}
              <input
                required
                inputMode="decimal"
                value={form.price}
                onChange={(e) => setForm({ ...form, price: e.target.value })}
              />
            </label>
            <label>
              {t('commerce.vatPercent')}
              <input
                required
                inputMode="decimal"
                value={form.vat}
                onChange={(e) => setForm({ ...form, vat: e.target.value })}
              />
            </label>
            <fieldset>
              <legend>{t('commerce.datacenters')}</legend>
              {datacenters.status === 'ready'
                ? datacenters.data.map((d) => (
                    <label key={d.id}>
                      <input
                        type="checkbox"
                        checked={dcs.includes(d.id)}
                        onChange={(e) =>
                          setDcs(e.target.checked ? [...dcs, d.id] : dcs.filter((x) => x !== d.id))
                        }
                      />{' '}
                      {d.code} — {d.name}
                    </label>
                  ))
                : null}
            </fieldset>
            <button type="submit" className="button-primary" disabled={busy}>
              {t('commerce.createPlan')}
            </button>
          </form>
        </section>
      ) : null}
    </Page>
  );
}
